import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { postToEndpoint, TokenEndpointError } from '../connections/tokenRequest.js';
import type { Outbound } from '../outbound/client.js';

/**
 * Signs the short-lived app JWT GitHub asks for (RS256, `iss` = app id, issued 60 s in the past against clock
 * drift, valid 9 minutes; GitHub allows at most 10). Accepts PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub
 * downloads) and PKCS#8 PEM keys.
 */
export async function signAppJwt(appId: string, privateKeyPem: string, now = Date.now()): Promise<string> {
  const key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  const iat = Math.floor(now / 1000) - 60;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(appId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 9 * 60)
    .sign(key);
}

/**
 * Exchanges the app JWT for an installation access token (`POST <token_url>` with `Authorization: Bearer <jwt>`),
 * through the server's outbound requests (`http`).
 * @returns the token, its expiry and the raw response
 * @throws TokenEndpointError when GitHub refuses or cannot be reached
 */
export async function installationToken(
  http: Outbound,
  tokenUrl: string,
  jwt: string,
): Promise<{ token: string; expiresAt: string | undefined; raw: Record<string, unknown> }> {
  const { status, text } = await postToEndpoint(http, tokenUrl, {
    headers: {
      authorization: `Bearer ${jwt}`,
      accept: 'application/vnd.github+json',
      'user-agent': 'ferry',
      'x-github-api-version': '2022-11-28',
    },
    what: 'the installation token endpoint',
  });
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') raw = parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  if (status < 200 || status >= 300 || typeof raw.token !== 'string') {
    const detail = typeof raw.message === 'string' ? raw.message : `HTTP ${status}`;
    throw new TokenEndpointError(`the installation token endpoint refused: ${detail}`, status, raw);
  }
  const expiresAt =
    typeof raw.expires_at === 'string' && !Number.isNaN(Date.parse(raw.expires_at))
      ? new Date(raw.expires_at).toISOString()
      : undefined;
  return { token: raw.token, expiresAt, raw };
}
