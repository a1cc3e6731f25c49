/**
 * Returns `value` when it is exactly a web origin (`http(s)://host[:port]`, no path, no `null`, no `*`), else
 * undefined. The callback page posts its result to this origin only.
 */
export function exactOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin === value ? value : undefined;
}

/** The origin of a Referer header, or undefined. */
export function originOfReferer(referer: unknown): string | undefined {
  if (typeof referer !== 'string') return undefined;
  try {
    return exactOrigin(new URL(referer).origin);
  } catch {
    return undefined;
  }
}
