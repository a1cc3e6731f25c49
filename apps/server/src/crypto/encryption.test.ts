import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEncryptor, keyIdOf, keyIdOfCiphertext } from './encryption.js';

const key = () => randomBytes(32).toString('base64');

describe('encryption', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const e = createEncryptor(key());
    const a = e.encrypt('secret');
    expect(a).not.toBe(e.encrypt('secret'));
    expect(a.startsWith(`v1:${e.keyId}:`)).toBe(true);
    expect(e.decrypt(a)).toBe('secret');
    expect(e.decryptJson(e.encryptJson({ a: [1, 'x'] }))).toEqual({ a: [1, 'x'] });
  });

  it('detects tampering', () => {
    const e = createEncryptor(key());
    const parts = e.encrypt('secret').split(':');
    parts[4] = Buffer.from('other!').toString('base64url');
    expect(() => e.decrypt(parts.join(':'))).toThrow();
    expect(() => e.decrypt('garbage')).toThrow('malformed ciphertext');
  });

  it('decrypts with a previous key after rotation, encrypts with the new one', () => {
    const oldKey = key();
    const before = createEncryptor(oldKey).encrypt('old secret');
    const after = createEncryptor(key(), [oldKey]);
    expect(after.decrypt(before)).toBe('old secret');
    expect(() => createEncryptor(key()).decrypt(before)).toThrow(/no encryption key/);
  });

  it('names the key of a ciphertext and the keys it can decrypt with', () => {
    const oldKey = key();
    const e = createEncryptor(key(), [oldKey]);
    const oldId = keyIdOf(Buffer.from(oldKey, 'base64'));
    expect(e.keyIds).toEqual([e.keyId, oldId]);
    expect(keyIdOfCiphertext(e.encrypt('x'))).toBe(e.keyId);
    expect(keyIdOfCiphertext('garbage')).toBeUndefined();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createEncryptor(randomBytes(16).toString('base64'))).toThrow(TypeError);
  });
});
