import type { RetryConfig } from '@ferry/providers';

/** Response headers as undici gives them: lower-case names. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** A script's own `retryHeader` (Nango's `ProxyConfiguration.retryHeader`). */
export interface RetryHeader {
  at?: string | undefined;
  after?: string | undefined;
}

function header(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function names(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Whether `status` matches a pattern such as `429`, `5xx` or `500-504`. */
export function statusMatches(status: number, pattern: string): boolean {
  if (/^\dxx$/i.test(pattern)) return Math.floor(status / 100) === Number(pattern[0]);
  const range = /^(\d{3})-(\d{3})$/.exec(pattern);
  if (range) return status >= Number(range[1]) && status <= Number(range[2]);
  return status === Number(pattern);
}

/**
 * Whether an upstream status is worth another attempt: any 5xx, 429, the provider's `retry.error_code`
 * statuses, the caller's `Retry-On` statuses, or any error whose `retry.remaining` header says `0`.
 */
export function isRetryableStatus(
  status: number,
  headers: HeaderMap,
  retry: RetryConfig | undefined,
  retryOn: readonly number[],
): boolean {
  if (status >= 500 || status === 429) return true;
  if (retryOn.includes(status)) return true;
  if (retry?.error_code?.some((p) => statusMatches(status, p))) return true;
  if (status >= 400 && retry?.remaining && header(headers, retry.remaining)?.trim() === '0') return true;
  return false;
}

/**
 * Milliseconds until a reset time given as epoch seconds, epoch milliseconds or an HTTP date; undefined
 * when the value is none of these.
 */
export function untilReset(value: string, now: number): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    // 10-digit epochs are seconds (until the year 2286); bigger ones are milliseconds.
    const at = n < 1e11 ? n * 1000 : n;
    return Math.max(0, at - now);
  }
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Milliseconds of a `Retry-After`-style value: delay seconds, or an HTTP date. */
export function retryAfterMs(value: string, now: number): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.max(0, Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function longest(values: (number | undefined)[]): number | undefined {
  const found = values.filter((v): v is number => v !== undefined);
  return found.length === 0 ? undefined : Math.max(...found);
}

/**
 * How long to wait before the next attempt, first match wins: the script's `retryHeader`, the provider's
 * `retry.at` / `retry.after` headers (the longest wait among several), a standard `Retry-After`; otherwise
 * exponential backoff with jitter (`backoffBaseMs · 2^(attempt-1)`, between half and all of it).
 *
 * @param attempt - The number of the attempt that just failed (1 for the first).
 */
export function waitBeforeRetry(options: {
  headers: HeaderMap;
  retry: RetryConfig | undefined;
  retryHeader?: RetryHeader | undefined;
  attempt: number;
  backoffBaseMs: number;
  now: number;
  random?: () => number;
}): number {
  const { headers, retry, retryHeader, now } = options;
  const atOf = (list: string[]) =>
    longest(
      list.map((n) => header(headers, n)).map((v) => (v === undefined ? undefined : untilReset(v, now))),
    );
  const afterOf = (list: string[]) =>
    longest(
      list.map((n) => header(headers, n)).map((v) => (v === undefined ? undefined : retryAfterMs(v, now))),
    );
  const own = longest([atOf(names(retryHeader?.at)), afterOf(names(retryHeader?.after))]);
  if (own !== undefined) return own;
  const provider = longest([atOf(names(retry?.at)), afterOf(names(retry?.after))]);
  if (provider !== undefined) return provider;
  const standard = afterOf(['retry-after']);
  if (standard !== undefined) return standard;
  const random = options.random ?? Math.random;
  const full = options.backoffBaseMs * 2 ** Math.max(0, options.attempt - 1);
  return Math.round(full / 2 + (random() * full) / 2);
}
