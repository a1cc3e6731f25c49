import type { StreamReclaimer } from './reclaim.js';

/** Request bodies up to this size are kept while they stream, so a retry can send them again. */
export const REPLAY_LIMIT = 1024 * 1024;

/**
 * A request body that streams upstream once and keeps a copy of itself (up to {@link REPLAY_LIMIT}) so
 * a retry or a redirect can replay it. Bodies already in memory replay at no cost.
 */
export class RequestBody {
  #source: AsyncIterable<Buffer> | Buffer | null;
  #chunks: Buffer[] | undefined = [];
  #kept = 0;
  #complete = false;
  #used = false;
  /** Bytes sent upstream by the first attempt. */
  bytes = 0;
  /** Told of every chunk streamed upstream. */
  reclaimer: StreamReclaimer | undefined;

  /** The declared length of a streamed body (its `Content-Length`), if known. */
  readonly length: number | undefined;

  constructor(source: AsyncIterable<Buffer> | Buffer | string | null, length?: number) {
    this.#source = typeof source === 'string' ? Buffer.from(source) : source;
    this.length = length;
    if (this.#source === null || Buffer.isBuffer(this.#source)) {
      this.#complete = true;
      this.bytes = this.#source?.length ?? 0;
    }
  }

  /**
   * Reads a streamed body into memory (an OAuth 1.0a signature covers form bodies), at most `limit` bytes.
   * @returns The whole body, or undefined when it is larger than `limit` (it then streams as before).
   */
  async buffer(limit = REPLAY_LIMIT): Promise<Buffer | undefined> {
    const source = this.#source;
    if (source === null || Buffer.isBuffer(source)) return source ?? Buffer.alloc(0);
    if (this.#used) return undefined;
    const iterator = source[Symbol.asyncIterator]();
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      chunks.push(next.value);
      size += next.value.length;
      if (size > limit) {
        // Too big to sign: stream what was read, then the rest.
        this.#source = (async function* () {
          yield* chunks;
          for (;;) {
            const next = await iterator.next();
            if (next.done) return;
            yield next.value;
          }
        })();
        return undefined;
      }
    }
    const whole = Buffer.concat(chunks);
    this.#source = whole;
    this.#complete = true;
    this.bytes = whole.length;
    return whole;
  }

  /** Whether there is any body. */
  get empty(): boolean {
    return this.#source === null;
  }

  /** Whether {@link RequestBody.next} can produce the body again for another attempt. */
  get replayable(): boolean {
    if (this.#source === null || Buffer.isBuffer(this.#source)) return true;
    return !this.#used || (this.#complete && this.#chunks !== undefined);
  }

  /** The body for the next attempt: the stream the first time, the kept copy afterwards. */
  next(): AsyncIterable<Buffer> | Buffer | null {
    const source = this.#source;
    if (source === null || Buffer.isBuffer(source)) return source;
    if (this.#used) return Buffer.concat(this.#chunks ?? []);
    this.#used = true;
    return this.#record(source);
  }

  async *#record(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      this.bytes += chunk.length;
      this.reclaimer?.add(chunk.length);
      if (this.#chunks) {
        this.#kept += chunk.length;
        if (this.#kept > REPLAY_LIMIT) this.#chunks = undefined;
        else this.#chunks.push(chunk);
      }
      yield chunk;
    }
    this.#complete = true;
  }
}
