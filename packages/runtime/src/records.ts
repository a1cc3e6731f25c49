const MAX_DEPTH = 64;
const ObjectPrototype = Object.prototype;

function visit(value: unknown, depth: number, path: object[]): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'undefined':
      return undefined;
    case 'object':
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new Error(`a ${typeof value} is not JSON data`);
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) throw new Error(`nested deeper than ${MAX_DEPTH} levels`);
  for (let i = 0; i < depth; i++) if (path[i] === value) throw new Error('it holds a cycle');
  path[depth] = value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = visit(value[i], depth + 1, path);
      value[i] = item === undefined ? null : item;
    }
  } else {
    if (Object.getPrototypeOf(value) !== ObjectPrototype)
      throw new Error(`a ${Object.prototype.toString.call(value).slice(8, -1)} is not JSON data`);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const field = record[key];
      const t = typeof field;
      if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(field))) continue;
      const item = visit(field, depth + 1, path);
      if (item === undefined) delete record[key];
      else record[key] = item;
    }
  }
  return value;
}

/**
 * Checks records that came out of the isolate (as JSON text, parsed on the host) and brings them to JSON
 * data in place: Dates become ISO strings, `undefined` fields go, non-finite numbers become null (a no-op
 * for parsed JSON, kept for any other caller). Refuses nesting past 64 levels. Runs on the host, where
 * this code stays hot.
 * @returns why the first bad record is not JSON data (a cycle, a bigint, a Map…), or undefined
 */
export function normalizeRecords(records: unknown[]): string | undefined {
  const path: object[] = [];
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return `record ${i} is not an object`;
    try {
      visit(record, 0, path);
    } catch (error) {
      return `record ${i}: ${(error as Error).message}`;
    }
    const id = (record as { id?: unknown }).id;
    if ((typeof id !== 'string' && typeof id !== 'number') || id === '') return `record ${i} has no id`;
  }
  return undefined;
}

/** The isolate writes the lengths in a Uint32Array: this platform's byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A batch of records as the isolate sent it: parsed records and the JSON text of each, sliced from the call. */
export interface RecordTexts {
  model: string;
  records: unknown[];
  texts: string[];
}

/**
 * Splits the arguments of a record call sent as `[model,[r0,r1,…]]` with the character length of each record's
 * JSON (`lengths`, uint32 in this platform's byte order, from the isolate) into the model, each record's text as sent and the record
 * parsed from that text alone. Each slice must parse on its own as an object starting with `{` and ending with `}`,
 * and the slices must be separated by single commas and fill the array exactly: what is stored as sent is then one
 * JSON object, whatever the isolate did.
 * @returns the batch, or why the arguments are malformed
 */
export function splitRecordTexts(json: string, lengths: Uint8Array): RecordTexts | string {
  if (lengths.byteLength % 4 !== 0) return 'malformed record lengths';
  const n = lengths.byteLength / 4;
  const view = new DataView(lengths.buffer, lengths.byteOffset, lengths.byteLength);
  let total = n > 0 ? n - 1 : 0;
  for (let i = 0; i < n; i++) total += view.getUint32(i * 4, LITTLE_ENDIAN);
  const start = json.length - 2 - total;
  if (
    n === 0 ||
    start < 3 ||
    json.charCodeAt(json.length - 1) !== 93 ||
    json.charCodeAt(json.length - 2) !== 93
  )
    return 'malformed arguments';
  let model: unknown;
  try {
    model = (JSON.parse(json.slice(0, start) + ']]') as unknown[])[0];
  } catch {
    return 'malformed arguments';
  }
  if (typeof model !== 'string' || json.charCodeAt(start - 1) !== 91 /* [ */) return 'malformed arguments';
  const records = new Array<unknown>(n);
  const texts = new Array<string>(n);
  let at = start;
  for (let i = 0; i < n; i++) {
    const length = view.getUint32(i * 4, LITTLE_ENDIAN);
    const text = json.slice(at, at + length);
    at += length;
    if (i < n - 1 && json.charCodeAt(at++) !== 44 /* , */) return `record ${i} is malformed`;
    if (text.charCodeAt(0) !== 123 || text.charCodeAt(text.length - 1) !== 125)
      return `record ${i} is not an object`;
    try {
      records[i] = JSON.parse(text);
    } catch {
      return `record ${i} is malformed`;
    }
    texts[i] = text;
  }
  return { model, records, texts };
}
