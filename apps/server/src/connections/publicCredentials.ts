import type { StoredCredentials } from './credentials.js';

/**
 * Refresh tokens shorter than this are removed only where a value equals them exactly, not where a longer string
 * contains them: a two-character "token" would otherwise erase unrelated text.
 */
const MIN_EMBEDDED_LENGTH = 8;

/** `refresh_token`, `refreshToken`, `Refresh-Token`, `REFRESH_TOKEN`, … */
function isRefreshTokenKey(key: string): boolean {
  return key.replace(/[^a-z0-9]/gi, '').toLowerCase() === 'refreshtoken';
}

/** The refresh-token values a credentials object holds: its own, and any string under a refresh-token key. */
function refreshTokenValues(credentials: StoredCredentials): string[] {
  const found = new Set<string>();
  if ('refresh_token' in credentials && credentials.refresh_token) found.add(credentials.refresh_token);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) for (const v of value) visit(v);
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (isRefreshTokenKey(k) && typeof v === 'string' && v.length > 0) found.add(v);
        visit(v);
      }
    }
  };
  visit('raw' in credentials ? credentials.raw : undefined);
  return [...found];
}

/** Marks a value to drop from its object or array. */
const DROP = Symbol('drop');

/**
 * The credentials a caller may see: without `includeRefreshToken`, no field at any depth carries a refresh token.
 * This is the only place that shapes credentials for output (`GET /connections/:id` on both its paths,
 * `POST /connections`, and everything built on `ConnectionService.get`).
 *
 * What is removed, in the whole object (top level and `raw`, at any depth, in objects and arrays):
 * - every key whose name, ignoring case and non-alphanumerics, is `refreshtoken` (`refresh_token`,
 *   `refreshToken`, `Refresh-Token`, …), whatever its value;
 * - every string equal to a known refresh token — the stored `refresh_token` and any string found under such a
 *   key — wherever it sits and whatever its key is called (`{"tokens": {"r": "…"}}`, `["…"]`);
 * - every string containing a known refresh token of at least 8 characters (a form-encoded response body kept as
 *   text, a JWT-ish blob): the whole string goes, since a partly redacted body is still someone's secret format.
 *
 * Matching by value is what makes this robust: a provider may name the field anything. Matching by name catches
 * a refresh token that is not the stored one (a provider answering with two).
 *
 * @param credentials The stored (decrypted) credentials; not modified (they may be shared and frozen).
 * @param options.includeRefreshToken `refresh_token=true`: return the credentials unchanged (a shallow copy).
 * @returns A new object; unchanged sub-objects may be shared with the input.
 */
export function publicCredentials(
  credentials: StoredCredentials,
  options: { includeRefreshToken: boolean },
): StoredCredentials {
  if (options.includeRefreshToken) return { ...credentials };
  const secrets = refreshTokenValues(credentials);
  const carriesSecret = (s: string): boolean =>
    secrets.some((t) => s === t || (t.length >= MIN_EMBEDDED_LENGTH && s.includes(t)));
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') return carriesSecret(value) ? DROP : value;
    if (Array.isArray(value)) {
      const out = value.map(clean).filter((v) => v !== DROP);
      return out;
    }
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (isRefreshTokenKey(k)) continue;
        const c = clean(v);
        if (c !== DROP) out[k] = c;
      }
      return out;
    }
    return value;
  };
  return clean(credentials) as StoredCredentials;
}
