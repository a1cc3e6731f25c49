import { ServerResponse } from 'node:http';
import { finished, type Writable } from 'node:stream';
import { util, type Dispatcher } from 'undici';
import type { PoolCache } from '../outbound/pools.js';
import type { StreamReclaimer } from './reclaim.js';
import type { HeaderMap } from './retry.js';

/** What to do with an upstream response, decided when its head arrives. */
export type Disposition =
  /** Stream the body into this writable: it is the answer. */
  | { kind: 'final'; sink: Writable }
  /** Throw the body away (a retry or a redirect follows). */
  | { kind: 'discard' }
  /** Keep the body in memory (up to `limit`) and decide after it arrived (a 401 before a refresh). */
  | { kind: 'buffer'; limit: number };

/** The response head handed to the decision. */
export interface Head {
  status: number;
  headers: HeaderMap;
}

/** The outcome of one exchange. */
export interface Exchange {
  head: Head;
  disposition: Disposition;
  /** The kept body, for `buffer`. */
  buffered?: Buffer;
}

/** Keeps up to `limit` bytes of a body. */
class Collector {
  readonly chunks: Buffer[] = [];
  #size = 0;
  constructor(readonly limit: number) {}
  add(chunk: Buffer): void {
    if (this.#size < this.limit) this.chunks.push(chunk.subarray(0, this.limit - this.#size));
    this.#size += chunk.length;
  }
}

/**
 * The undici dispatch handler of one exchange. It does what `Pool.stream` does for a proxy, minus what a
 * proxy does not need on every request (an async resource and `finished()` listeners on the sink): the
 * body goes into the sink with backpressure (`resume` on drain), and a sink that fails or closes early
 * aborts the upstream request.
 */
class ExchangeHandler implements Dispatcher.DispatchHandler {
  readonly #decide: (head: Head) => Disposition;
  readonly #resolve: (exchange: Exchange) => void;
  readonly #reject: (err: Error) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #reclaimer: StreamReclaimer | undefined;
  readonly #received: { bytes: number } | undefined;
  #abort: ((err?: Error) => void) | undefined;
  #result: Exchange | undefined;
  #sink: Writable | undefined;
  #collector: Collector | undefined;
  #done = false;

  constructor(
    decide: (head: Head) => Disposition,
    resolve: (exchange: Exchange) => void,
    reject: (err: Error) => void,
    signal: AbortSignal | undefined,
    reclaimer: StreamReclaimer | undefined,
    received: { bytes: number } | undefined,
  ) {
    this.#decide = decide;
    this.#reclaimer = reclaimer;
    this.#received = received;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  readonly #onAbort = (): void => {
    this.#abort?.(abortError(this.#signal));
  };

  readonly #onSinkError = (err: Error): void => {
    if (!this.#done) this.#abort?.(err);
  };

  readonly #onSinkClose = (): void => {
    if (!this.#done) this.#abort?.(new Error('the response stream closed before the upstream body ended'));
  };

  #finish(err: Error | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const sink = this.#sink;
    // The error listener stays: it keeps a late error of the sink from going unhandled.
    sink?.off('close', this.#onSinkClose);
    if (err) {
      sink?.destroy(err);
      this.#reject(err);
      return;
    }
    const result = this.#result;
    if (!result) {
      this.#reject(new Error('upstream response without a head'));
      return;
    }
    if (this.#collector) result.buffered = Buffer.concat(this.#collector.chunks);
    this.#resolve(result);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#signal?.aborted) abort(abortError(this.#signal));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    const head: Head = { status: statusCode, headers: util.parseHeaders(rawHeaders) };
    const disposition = this.#decide(head);
    this.#result = { head, disposition };
    if (disposition.kind === 'buffer') this.#collector = new Collector(disposition.limit);
    if (disposition.kind !== 'final') return true;
    const sink = disposition.sink;
    this.#sink = sink;
    sink.on('drain', resume);
    sink.on('error', this.#onSinkError);
    sink.on('close', this.#onSinkClose);
    return !sink.writableNeedDrain;
  }

  onData(chunk: Buffer): boolean {
    this.#reclaimer?.add(chunk.length);
    if (this.#sink) {
      if (this.#received) this.#received.bytes += chunk.length;
      return this.#sink.write(chunk);
    }
    this.#collector?.add(chunk);
    return true;
  }

  onComplete(): void {
    const sink = this.#sink;
    if (!sink) {
      this.#finish(undefined);
      return;
    }
    sink.off('close', this.#onSinkClose);
    if (sink instanceof ServerResponse) {
      // The answer is complete once the response has taken the end; errors after that are the client's.
      sink.end();
      this.#finish(undefined);
      return;
    }
    // A stream in between (a decompressor, a script's size-limited collector) may still fail while it
    // flushes: the exchange ends when it has, with its error if any.
    finished(sink, { readable: false }, (err) => this.#finish(err ?? undefined));
    sink.end();
  }

  onError(err: Error): void {
    this.#finish(err);
  }
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('This operation was aborted');
  err.name = 'AbortError';
  return err;
}

/**
 * Sends one request to `origin` over its pooled connections and lets `decide` choose, from the status and
 * headers, where the body goes. Rejects on network errors, aborts and SSRF refusals.
 */
export function exchange(
  pools: PoolCache,
  origin: string,
  options: {
    method: string;
    path: string;
    headers: Record<string, string>;
    /** A buffer, or an async iterable (undici streams iterables as they come). */
    body: Buffer | AsyncIterable<Buffer> | null;
    signal?: AbortSignal | undefined;
    /** Time to wait for the response head (the rest of the request's deadline). */
    headersTimeout: number;
    /** Told of every body chunk received. */
    reclaimer?: StreamReclaimer | undefined;
    /** Counts the body bytes handed to a final sink, also when the exchange fails midway. */
    received?: { bytes: number } | undefined;
  },
  decide: (head: Head) => Disposition,
): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError(options.signal));
      return;
    }
    pools.get(origin).dispatch(
      {
        origin,
        method: options.method,
        path: options.path,
        headers: options.headers,
        body: options.body as Dispatcher.DispatchOptions['body'],
        headersTimeout: options.headersTimeout,
      },
      new ExchangeHandler(decide, resolve, reject, options.signal, options.reclaimer, options.received),
    );
  });
}
