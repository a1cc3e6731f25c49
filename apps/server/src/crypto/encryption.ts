import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** Encrypts and decrypts secrets at rest with AES-256-GCM; each ciphertext names the key that made it. */
export interface Encryptor {
  /** The id of the key used for new ciphertexts. */
  readonly keyId: string;
  /** The ids of every key that can decrypt: the current one and the previous ones. */
  readonly keyIds: readonly string[];
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  encryptJson(value: unknown): string;
  decryptJson<T>(ciphertext: string): T;
}

/** The id of the key that made a ciphertext (`v1:<keyId>:…`), or undefined when it is not one. */
export function keyIdOfCiphertext(ciphertext: string): string | undefined {
  const [version, id] = ciphertext.split(':', 2);
  return version === VERSION && id ? id : undefined;
}

/** The short id of a key: the first 8 hex chars of its sha256. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Creates an encryptor. `current` encrypts; `previous` keys can still decrypt, so keys can be rotated.
 * Ciphertext format: `v1:<keyId>:<iv>:<tag>:<data>` (base64url parts).
 */
export function createEncryptor(current: string, previous: string[] = []): Encryptor {
  const keys = new Map<string, Buffer>();
  const currentKey = Buffer.from(current, 'base64');
  if (currentKey.length !== 32) throw new TypeError('the encryption key must be 32 bytes');
  const keyId = keyIdOf(currentKey);
  keys.set(keyId, currentKey);
  for (const p of previous) {
    const k = Buffer.from(p, 'base64');
    keys.set(keyIdOf(k), k);
  }

  const encrypt = (plaintext: string): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      keyId,
      iv.toString('base64url'),
      tag.toString('base64url'),
      data.toString('base64url'),
    ].join(':');
  };

  const decrypt = (ciphertext: string): string => {
    const [version, id, iv, tag, data] = ciphertext.split(':');
    if (version !== VERSION || !id || iv === undefined || tag === undefined || data === undefined) {
      throw new Error('malformed ciphertext');
    }
    const key = keys.get(id);
    if (!key) throw new Error(`no encryption key with id ${id} is configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  };

  return {
    keyId,
    keyIds: [...keys.keys()],
    encrypt,
    decrypt,
    encryptJson: (value) => encrypt(JSON.stringify(value)),
    decryptJson: <T>(c: string) => JSON.parse(decrypt(c)) as T,
  };
}
