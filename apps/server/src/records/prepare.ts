import { hash } from 'node:crypto';
import { FerryError } from '../errors.js';
import { storableText } from '../store/values.js';

/** Largest JSON size of one record, in bytes; a larger record fails its batch. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Longest external id (Nango's limit). */
export const MAX_ID_LENGTH = 255;

/** A record ready to store: its external id, JSON text (with the id as a string) and content hash. */
export interface PreparedRecord {
  externalId: string;
  text: string;
  hash: string;
}

const METADATA_KEY = '_nango_metadata';

function fail(model: string, index: number, problem: string): never {
  throw new FerryError(
    'invalid_record',
    `Record ${index} of ${model} ${problem}; nothing of this batch was written.`,
  );
}

/**
 * The external id of a record: a non-empty string, or a finite number stringified (NUL and lone surrogates as
 * U+FFFD).
 * @throws FerryError `invalid_record` naming the index
 */
export function externalIdOf(model: string, record: unknown, index: number): string {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    fail(model, index, 'is not an object');
  const id = (record as { id?: unknown }).id;
  let value: string;
  if (typeof id === 'string') value = id;
  else if (typeof id === 'number' && Number.isFinite(id)) value = String(id);
  else
    fail(
      model,
      index,
      id === undefined || id === null ? 'has no id' : 'has an id that is neither a string nor a number',
    );
  // NUL and lone surrogates become U+FFFD, as everywhere a script's text is stored: PostgreSQL refuses them.
  value = storableText(value);
  if (value === '') fail(model, index, 'has an empty id');
  if (value.length > MAX_ID_LENGTH) fail(model, index, `has an id longer than ${MAX_ID_LENGTH} characters`);
  return value;
}

/**
 * Checks that a batch has an id on every record and no id twice.
 * @returns the external ids, in order
 * @throws FerryError `invalid_record` naming the first bad index
 */
export function batchIds(model: string, records: readonly unknown[]): string[] {
  const ids = new Array<string>(records.length);
  const seen = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const id = externalIdOf(model, records[i], i);
    const first = seen.get(id);
    if (first !== undefined) fail(model, i, `has the same id "${id}" as record ${first}`);
    seen.set(id, i);
    ids[i] = id;
  }
  return ids;
}

/**
 * Serialises one record for storage (id as a string, no `_nango_metadata`) and hashes it. `sent`, the record's JSON
 * text as the runtime received it, is used as it is when the record is already in its stored form.
 */
export function serializeRecord(
  model: string,
  record: object,
  externalId: string,
  index: number,
  sent?: string,
): PreparedRecord {
  const r = record as Record<string, unknown>;
  const clean = r.id === externalId && !(METADATA_KEY in r) ? r : { ...r, id: externalId };
  if (clean !== r) delete clean[METADATA_KEY];
  let text: string;
  try {
    text = clean === r && sent !== undefined ? sent : JSON.stringify(clean);
  } catch (err) {
    fail(
      model,
      index,
      `is not JSON data (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    );
  }
  if (text.length > MAX_RECORD_BYTES / 3 && Buffer.byteLength(text) > MAX_RECORD_BYTES)
    fail(model, index, `is larger than ${MAX_RECORD_BYTES} bytes as JSON`);
  return { externalId, text, hash: hash('sha256', text, 'base64url') };
}

/**
 * Validates and serialises a batch for `batchSave`. `texts` (each record's JSON text as the runtime received it, same
 * order) spares serialising records already in their stored form.
 * @throws FerryError `invalid_record` naming the index of a record without id, with a duplicate id, with a cycle or
 * over {@link MAX_RECORD_BYTES}
 */
export function prepareRecords(
  model: string,
  records: readonly unknown[],
  texts?: readonly string[],
): PreparedRecord[] {
  const ids = batchIds(model, records);
  const sent = texts?.length === records.length ? texts : undefined;
  const out = new Array<PreparedRecord>(records.length);
  for (let i = 0; i < records.length; i++)
    out[i] = serializeRecord(model, records[i] as object, ids[i] as string, i, sent?.[i]);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep-merges `patch` into `target` (objects merge key by key; arrays and other values replace). */
export function deepMerge(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === undefined) continue;
    const current = target[key];
    target[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge({ ...current }, value) : value;
  }
  return target;
}
