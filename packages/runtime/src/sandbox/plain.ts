import { sandboxError } from './errors.js';

// Captured before any script runs, so a script that patches them only fools itself.
const { keys, getPrototypeOf, getOwnPropertyDescriptor, defineProperty } = Object;
const { ownKeys } = Reflect;
const { isArray } = Array;
// eslint-disable-next-line @typescript-eslint/unbound-method -- a static captured as a primordial
const { isView } = ArrayBuffer;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;
// eslint-disable-next-line @typescript-eslint/unbound-method -- only compared, never called
const protoSetter = getOwnPropertyDescriptor(ObjectPrototype, '__proto__')?.set;
const INDEX = /^\d+$/;
const MAX_DEPTH = 64;

/**
 * True while `obj[key] = value` on a fresh object or array can only create an own data property: no
 * setter and no read-only property on Object.prototype (but the original `__proto__`), and no indexed
 * property on Array.prototype. A script can break this for its own run; then the slow path is used.
 */
export function assignIsSafe(): boolean {
  for (const key of ownKeys(ObjectPrototype)) {
    const d = getOwnPropertyDescriptor(ObjectPrototype, key);
    if (!d) continue;
    if ('value' in d ? !d.writable : key !== '__proto__' || d.set !== protoSetter) return false;
    if (typeof key === 'string' && INDEX.test(key)) return false;
  }
  for (const key of ownKeys(ArrayPrototype)) if (typeof key === 'string' && INDEX.test(key)) return false;
  return true;
}

function put(target: object, key: string | number, value: unknown): void {
  defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Walk {
  code: string;
  binary: boolean;
  safe: boolean;
  /** The objects being copied, outermost first: a cycle is an object met again on this path. */
  path: object[];
}

function fail(walk: Walk, why: string): never {
  throw sandboxError(walk.code, why);
}

// One plain recursive function (no closures per call): it runs for every field of every record.
function copy(v: unknown, key: string | number, walk: Walk): unknown {
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(key: string): unknown }).toJSON(String(key));
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      return fail(walk, `a bigint is not JSON data (at "${key}")`);
    case 'object':
      break;
  }
  if (v === null) return null;
  const obj = v;
  if (walk.binary && (isView(obj) || obj instanceof ArrayBuffer)) {
    return isView(obj)
      ? new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength).slice()
      : new Uint8Array(obj.slice(0));
  }
  const path = walk.path;
  const depth = path.length;
  if (depth >= MAX_DEPTH) fail(walk, `nested deeper than ${MAX_DEPTH} levels`);
  for (let i = 0; i < depth; i++) if (path[i] === obj) fail(walk, `a cycle at "${key}"`);
  path[depth] = obj;
  let out: unknown;
  if (isArray(obj)) {
    const n = obj.length;
    const arr: unknown[] = walk.safe ? new Array(n) : [];
    for (let i = 0; i < n; i++) {
      let item = copy(obj[i], i, walk);
      if (item === undefined) item = null;
      if (walk.safe) arr[i] = item;
      else put(arr, i, item);
    }
    out = arr;
  } else {
    // Spread reads each own enumerable property once (getters and Proxy traps included) into a fresh
    // plain object of the same shape, without calling setters; only non-primitive values are revisited.
    const rec: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
    const ks = keys(rec);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i] as string;
      const field = rec[k];
      const t = typeof field;
      if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(field))) continue;
      const item = copy(field, k, walk);
      if (item === undefined) delete rec[k];
      else rec[k] = item;
    }
    out = rec;
  }
  path.length = depth;
  return out;
}

/**
 * Copies `value` as `JSON.parse(JSON.stringify(value))` would (toJSON and Dates honoured, undefined and
 * functions dropped from objects, non-finite numbers as null), but throws `code` on cycles, bigints and
 * nesting past 64 levels, and reads every property once, so getters and Proxy traps cannot change what
 * the host receives. With `binary`, typed arrays and ArrayBuffers pass as Uint8Array. Pass `safe` (from
 * {@link assignIsSafe}) when copying many values in a row.
 */
export function toPlain(value: unknown, code: string, binary = false, safe = assignIsSafe()): unknown {
  return copy(value, '', { code, binary, safe, path: [] });
}

/** True for `{}`-like objects (not arrays, dates, class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || isArray(value)) return false;
  const proto: unknown = getPrototypeOf(value);
  return proto === ObjectPrototype || proto === null;
}
