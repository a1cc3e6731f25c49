import { sandboxError } from './errors.js';

// Captured before any script runs, so a script that patches them only fools itself.
const { keys, getPrototypeOf, getOwnPropertyDescriptor, defineProperty } = Object;
const { ownKeys } = Reflect;
const { isArray } = Array;
const { isView } = ArrayBuffer;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;
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

/**
 * Copies `value` as `JSON.parse(JSON.stringify(value))` would (toJSON and Dates honoured, undefined and
 * functions dropped from objects, non-finite numbers as null), but throws `code` on cycles, bigints and
 * nesting past 64 levels, and reads every property once, so getters and Proxy traps cannot change what
 * the host receives. With `binary`, typed arrays and ArrayBuffers pass as Uint8Array.
 */
export function toPlain(value: unknown, code: string, binary = false, safe = assignIsSafe()): unknown {
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
      const arr: unknown[] = safe ? new Array(n) : [];
      for (let i = 0; i < n; i++) {
        const item = walk(obj[i], String(i));
        if (safe) arr[i] = item === undefined ? null : item;
        else put(arr, i, item === undefined ? null : item);
      }
      out = arr;
    } else {
      const rec: Record<string, unknown> = {};
      const ks = keys(obj);
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i] as string;
        const item = walk((obj as Record<string, unknown>)[k], k);
        if (item !== undefined) {
          if (safe && k !== '__proto__') rec[k] = item;
          else put(rec, k, item);
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
