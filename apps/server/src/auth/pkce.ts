import { createHash, randomBytes } from 'node:crypto';

/** A random URL-safe secret of `bytes` bytes (256 bits by default), e.g. an OAuth state or a PKCE verifier. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** The S256 PKCE challenge of a verifier: base64url(SHA-256(verifier)), RFC 7636 §4.2. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
