import { sandboxError } from './errors.js';

// Captured before any script runs, so a script that patches them only fools itself.
const { keys, getPrototypeOf } = Object;
const { isArray } = Array;
const { isView } = ArrayBuffer;
const ObjectPrototype = Object.prototype;
const MAX_DEPTH = 64;

/**
 * Copies `value` as `JSON.parse(JSON.stringify(value))` would (toJSON and Dates honoured, undefined and
 * functions dropped from objects, non-finite numbers as null), but throws `code` on cycles, bigints and
 * nesting past 64 levels, and reads every property once, so getters and Proxy traps cannot change what
 * the host receives. With `binary`, typed arrays and ArrayBuffers pass as Uint8Array.
 */
export function toPlain(value: unknown, code: string, binary = false): unknown {
  const stack: object[] = [];
  const fail = (why: string): never => {
    throw sandboxError(code, why);
  };
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON(key: string): unknown }).toJSON(key);
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
        return fail(`a bigint is not JSON data (at "${key}")`);
      case 'object':
        break;
    }
    if (v === null) return null;
    const obj = v as object;
    if (binary && (isView(obj) || obj instanceof ArrayBuffer)) {
      return isView(obj) ? new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength).slice() : new Uint8Array(obj.slice(0));
    }
    if (stack.length >= MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    for (let i = 0; i < stack.length; i++) if (stack[i] === obj) fail(`a cycle at "${key}"`);
    stack.push(obj);
    let out: unknown;
    if (isArray(obj)) {
      const n = obj.length;
      const arr: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const item = walk(obj[i], String(i));
        arr[i] = item === undefined ? null : item;
      }
      out = arr;
    } else {
      const rec: Record<string, unknown> = {};
      const ks = keys(obj);
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i] as string;
        const item = walk((obj as Record<string, unknown>)[k], k);
        if (item !== undefined) {
          if (k === '__proto__') Object.defineProperty(rec, k, { value: item, enumerable: true, writable: true, configurable: true });
          else rec[k] = item;
        }
      }
      out = rec;
    }
    stack.pop();
    return out;
  };
  return walk(value, '');
}

/** True for `{}`-like objects (not arrays, dates, class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || isArray(value)) return false;
  const proto: unknown = getPrototypeOf(value);
  return proto === ObjectPrototype || proto === null;
}
