import { hmac } from '@noble/hashes/hmac';
import { md5, sha1 } from '@noble/hashes/legacy';
import { sha256, sha512 } from '@noble/hashes/sha2';
import { loadBuffer } from './buffer.js';
import { sandboxError } from './errors.js';

type Algorithm = typeof sha256;
const algorithms: Record<string, Algorithm> = { md5, sha1, sha256, sha512 };
type Data = string | ArrayBufferView | ArrayBuffer;
type Digest = 'hex' | 'base64' | 'base64url' | 'latin1' | 'binary';

function algorithm(name: string): Algorithm {
  const found = algorithms[String(name).toLowerCase().replace('-', '')];
  if (!found) throw sandboxError('script_runtime_error', `Digest method not supported: ${name}`);
  return found;
}

function bytes(data: Data, encoding?: string): Uint8Array {
  const Buffer = loadBuffer();
  if (typeof data === 'string') return Buffer.from(data, (encoding ?? 'utf8') as BufferEncoding);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be a string, a Buffer, a TypedArray or a DataView');
}

interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

/** The part of Node's Hash and Hmac objects that scripts use. */
class Hash {
  constructor(private readonly hasher: Hasher) {}
  update(data: Data, encoding?: string): this {
    this.hasher.update(bytes(data, encoding));
    return this;
  }
  digest(encoding?: Digest): string | Uint8Array {
    const out = loadBuffer().from(this.hasher.digest());
    return encoding ? out.toString(encoding) : out;
  }
}

/** `crypto.createHash` for md5, sha1, sha256 and sha512 (pure JS, counted in the script's CPU time). */
export function createHash(name: string): Hash {
  return new Hash(algorithm(name).create());
}

/** `crypto.createHmac` for md5, sha1, sha256 and sha512. */
export function createHmac(name: string, key: Data): Hash {
  return new Hash(hmac.create(algorithm(name), bytes(key)));
}

/** Random bytes from an HMAC-SHA256 generator seeded with 32 bytes from the host's CSPRNG. */
export class RandomSource {
  private counter = 0;
  private pool: Uint8Array = new Uint8Array(0);
  private offset = 0;
  constructor(private readonly seed: Uint8Array) {}

  fill<T extends ArrayBufferView | null>(view: T): T {
    if (!ArrayBuffer.isView(view))
      throw new TypeError('The data argument must be an integer-type TypedArray');
    if (view.byteLength > 65536) throw new RangeError('The ArrayBufferView byte length exceeds 65536');
    const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    for (let i = 0; i < target.length; i++) {
      if (this.offset >= this.pool.length) {
        const block = new Uint8Array(8);
        new DataView(block.buffer).setFloat64(0, this.counter++);
        this.pool = hmac(sha256, this.seed, block);
        this.offset = 0;
      }
      target[i] = this.pool[this.offset++] as number;
    }
    return view;
  }

  uuid(): string {
    const b = this.fill(new Uint8Array(16));
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    let hex = '';
    for (let i = 0; i < 16; i++) hex += (b[i] as number).toString(16).padStart(2, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** The `crypto` module and global: hashing, HMAC and randomness from `seed`. */
export function cryptoModule(seed: Uint8Array): Record<string, unknown> {
  const random = new RandomSource(seed);
  const getRandomValues = <T extends ArrayBufferView | null>(view: T): T => random.fill(view);
  const randomUUID = (): string => random.uuid();
  const randomBytes = (size: number): Uint8Array => random.fill(loadBuffer().alloc(size));
  return {
    createHash,
    createHmac,
    getRandomValues,
    randomUUID,
    randomBytes,
    webcrypto: { getRandomValues, randomUUID },
  };
}
