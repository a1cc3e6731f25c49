import type { Dispatcher } from 'undici';
import type { TransportOptions } from './transport.js';
import { parseBaseUrl } from './url.js';
import { assertObject, assertToken } from './validate.js';

/** What `new Ferry()` takes. */
export interface FerryOptions {
  /** Base URL of the Ferry server, e.g. `http://localhost:3003` (a path prefix is kept). */
  readonly host: string;
  /** An environment's secret key, sent as `Authorization: Bearer <secretKey>`. */
  readonly secretKey: string;
  /**
   * An undici dispatcher to send requests through (e.g. a `MockAgent` in tests, or a shared `Agent`).
   * Without it the client opens its own keep-alive `Pool`, which `Ferry.close()` closes.
   */
  readonly dispatcher?: Dispatcher;
  /**
   * Deadline of each request in milliseconds, connection included (the own pool also caps connecting at
   * 10 s). Default 30 000. A request past it fails with `FerryError` code `network_error`.
   */
  readonly timeoutMs?: number;
}

/** The default of {@link FerryOptions.timeoutMs}. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Checks the options of `new Ferry()` and turns them into transport options plus the secret key.
 *
 * @param options - What the caller passed.
 * @returns The secret key and the transport's options.
 * @throws TypeError if `options` is not an object, `host` is not an http(s) URL, `secretKey` is not a
 *   non-empty string, `timeoutMs` is not a positive number, or `dispatcher` is not an undici dispatcher.
 */
export function resolveOptions(options: FerryOptions): { secretKey: string; transport: TransportOptions } {
  assertObject('options', options);
  const baseUrl = parseBaseUrl(options.host);
  assertToken('secretKey', options.secretKey);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('"timeoutMs" must be a positive number of milliseconds');
  }
  const { dispatcher } = options;
  if (dispatcher !== undefined && typeof (dispatcher as Partial<Dispatcher>).request !== 'function') {
    throw new TypeError('"dispatcher" must be an undici Dispatcher (Agent, Pool, MockAgent, …)');
  }
  return { secretKey: options.secretKey, transport: { baseUrl, timeoutMs, dispatcher } };
}
