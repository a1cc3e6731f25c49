/** True for `{…}` objects (not arrays, not null, not class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Merges `override` over `base`: maps merge key by key, lists and scalars replace, and `null`
 * deletes the key. Neither input is changed.
 */
export function mergeEntry(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete result[key];
    else result[key] = Object.hasOwn(base, key) ? mergeEntry(base[key], value) : value;
  }
  return result;
}

/** Freezes a value and everything reachable from it; returns the value. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** A copy of `value` without the `null` fields (deletion markers in aliases and overrides), at any depth. */
export function withoutNulls(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child !== null) result[key] = withoutNulls(child);
  }
  return result;
}
