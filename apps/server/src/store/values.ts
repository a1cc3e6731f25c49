import type { Timestamp } from './schema.js';

/** Converts a stored timestamp (Date from PostgreSQL, ISO text from SQLite) to an ISO string. */
export function toIso(value: Timestamp): string;
export function toIso(value: Timestamp | null): string | null;
export function toIso(value: Timestamp | null): string | null {
  if (value === null) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

/** Reads a JSON column (parsed jsonb from PostgreSQL, text from SQLite). */
export function fromJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

// NUL, and a UTF-16 surrogate without its pair: PostgreSQL's text and jsonb refuse them, SQLite keeps them.
// eslint-disable-next-line no-control-regex -- NUL is what this finds
const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const ANY_SURROGATE = /[\ud800-\udfff]/;
// The same in JSON text, where JSON.stringify writes them as escapes (it writes a valid pair as is). An escape is
// one only after an even number of backslashes.
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/**
 * Text as both databases store it alike: NUL and lone surrogates become U+FFFD. Request input with them is
 * refused before it gets here (`api/validate.ts`); this is for what providers and scripts send — token
 * responses, error texts, log lines — which must not fail a write on PostgreSQL and read back differently on
 * SQLite.
 */
export function storableText(text: string): string {
  return text.includes('\u0000') || ANY_SURROGATE.test(text) ? text.replace(UNSTORABLE_CHAR, '\ufffd') : text;
}

/** JSON text made storable the same way as {@link storableText}, for what was serialised elsewhere. */
export function storableJson(json: string): string {
  return json.includes('\\u') ? json.replace(UNSTORABLE_ESCAPE, '$1\\ufffd') : json;
}

/** Serialises a value for a JSON column; both dialects accept JSON text. NUL and lone surrogates become U+FFFD. */
export function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : storableJson(JSON.stringify(value));
}

/** The current time as the ISO string every table stores. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Whether a database error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown };
  return (
    e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
