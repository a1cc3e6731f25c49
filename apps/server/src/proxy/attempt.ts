import { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { PoolCache } from './pools.js';
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

function discard(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

function collector(limit: number, into: Buffer[]): Writable {
  let size = 0;
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (size < limit) into.push(chunk.subarray(0, limit - size));
      size += chunk.length;
      cb();
    },
  });
}

/**
 * Sends one request to `origin` over its pooled connections with `Pool.stream` and lets `decide` choose,
 * from the status and headers, where the body goes. Rejects on network errors, aborts and SSRF refusals.
 */
export async function exchange(
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
  },
  decide: (head: Head) => Disposition,
): Promise<Exchange> {
  let result: Exchange | undefined;
  const kept: Buffer[] = [];
  await pools.get(origin).stream(
    {
      method: options.method,
      path: options.path,
      headers: options.headers,
      body: options.body as Dispatcher.DispatchOptions['body'],
      signal: options.signal ?? null,
      headersTimeout: options.headersTimeout,
    },
    ({ statusCode, headers }) => {
      const head: Head = { status: statusCode, headers: headers };
      const disposition = decide(head);
      result = { head, disposition };
      if (disposition.kind === 'final') return disposition.sink;
      if (disposition.kind === 'buffer') return collector(disposition.limit, kept);
      return discard();
    },
  );
  if (!result) throw new Error('upstream response without a head');
  if (result.disposition.kind === 'buffer') result.buffered = Buffer.concat(kept);
  return result;
}
