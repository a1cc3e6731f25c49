import type { Request, Response } from 'express';
import { hashSecret } from '../environments/service.js';
import { randomSecret } from './pkce.js';

/** The cookie that binds an OAuth state to the browser that started the flow. */
export function stateCookieName(state: string): string {
  return `ferry_oauth_${state.slice(0, 24)}`;
}

const PATH = '/';

/**
 * Sets the state cookie on the response that redirects to the provider and returns the hash to store.
 *
 * `SameSite=Lax`: the callback is a top-level GET navigation coming from the provider's site, which Lax
 * cookies accompany (Strict ones do not; None would need Secure and also go along with cross-site
 * subrequests). `Secure` whenever the server's public URL is https.
 */
export function setStateCookie(
  res: Response,
  state: string,
  opts: { secure: boolean; maxAgeMs: number },
): string {
  const value = randomSecret();
  res.cookie(stateCookieName(state), value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: opts.secure,
    maxAge: opts.maxAgeMs,
    path: PATH,
  });
  return hashSecret(value);
}

/** Reads a cookie from the request's Cookie header (no parser middleware needed). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

/** Whether the request carries the state cookie whose hash was stored. */
export function stateCookieMatches(req: Request, state: string, cookieHash: string): boolean {
  const value = readCookie(req, stateCookieName(state));
  return value !== undefined && hashSecret(value) === cookieHash;
}

/** Clears the state cookie once the callback has used it. */
export function clearStateCookie(res: Response, state: string, secure: boolean): void {
  res.clearCookie(stateCookieName(state), { httpOnly: true, sameSite: 'lax', secure, path: PATH });
}
