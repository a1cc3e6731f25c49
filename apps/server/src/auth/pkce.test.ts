import { describe, expect, it } from 'vitest';
import { pkceChallenge, randomSecret } from './pkce.js';

describe('pkceChallenge', () => {
  it('matches the RFC 7636 appendix B example', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});

describe('randomSecret', () => {
  it('gives 256 bits by default, URL-safe, different each time', () => {
    const a = randomSecret();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(randomSecret()).not.toBe(a);
  });
});
