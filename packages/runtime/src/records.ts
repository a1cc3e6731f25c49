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
