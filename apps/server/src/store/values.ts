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

/** Serialises a value for a JSON column; both dialects accept JSON text. */
export function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
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
