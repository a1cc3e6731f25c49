import { describe, expect, it } from 'vitest';
import { isRetryableStatus, retryAfterMs, statusMatches, untilReset, waitBeforeRetry } from './retry.js';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('untilReset', () => {
  const given: [string, number | undefined][] = [
    [String(now / 1000 + 30), 30_000], // epoch seconds
    [String(now + 1500), 1500], // epoch milliseconds
    ['Thu, 01 Jan 2026 00:00:10 GMT', 10_000], // HTTP date
    [String(now / 1000 - 5), 0], // already past
    ['soon', undefined],
  ];
  for (const [value, want] of given) it(value, () => expect(untilReset(value, now)).toBe(want));
});

describe('retryAfterMs', () => {
  const given: [string, number | undefined][] = [
    ['2', 2000],
    ['0.5', 500],
    ['Thu, 01 Jan 2026 00:00:03 GMT', 3000],
    ['later', undefined],
  ];
  for (const [value, want] of given) it(value, () => expect(retryAfterMs(value, now)).toBe(want));
});

describe('statusMatches and isRetryableStatus', () => {
  it('matches exact statuses, classes and ranges', () => {
    expect([
      statusMatches(403, '403'),
      statusMatches(503, '5xx'),
      statusMatches(502, '500-504'),
      statusMatches(505, '500-504'),
    ]).toEqual([true, true, true, false]);
  });
  const given: {
    status: number;
    headers?: Record<string, string>;
    retryOn?: number[];
    errorCode?: string[];
    want: boolean;
  }[] = [
    { status: 500, want: true },
    { status: 429, want: true },
    { status: 404, want: false },
    { status: 401, want: false },
    { status: 409, retryOn: [409], want: true },
    { status: 403, errorCode: ['403'], want: true },
    { status: 403, headers: { 'x-ratelimit-remaining': '0' }, want: true },
    { status: 200, headers: { 'x-ratelimit-remaining': '0' }, want: false },
  ];
  for (const g of given) {
    it(`${g.status} ${JSON.stringify(g)}`, () => {
      const retry = {
        remaining: 'x-ratelimit-remaining',
        ...(g.errorCode ? { error_code: g.errorCode } : {}),
      };
      expect(isRetryableStatus(g.status, g.headers ?? {}, retry, g.retryOn ?? [])).toBe(g.want);
    });
  }
});

describe('waitBeforeRetry', () => {
  const base = { attempt: 1, backoffBaseMs: 100, now, random: () => 1 };
  it('prefers the call’s own header, then the provider’s, then Retry-After, then backoff', () => {
    const headers = { 'x-own': '1', 'x-ratelimit-reset': String(now / 1000 + 5), 'retry-after': '7' };
    expect(
      waitBeforeRetry({
        ...base,
        headers,
        retry: { at: 'x-ratelimit-reset' },
        retryHeader: { after: 'x-own' },
      }),
    ).toBe(1000);
    expect(waitBeforeRetry({ ...base, headers, retry: { at: 'x-ratelimit-reset' } })).toBe(5000);
    expect(waitBeforeRetry({ ...base, headers, retry: undefined })).toBe(7000);
    expect(waitBeforeRetry({ ...base, headers: {}, retry: undefined })).toBe(100);
    expect(waitBeforeRetry({ ...base, attempt: 3, headers: {}, retry: undefined })).toBe(400);
  });
  it('takes the longest wait among several headers', () => {
    const headers = { a: '2', b: '9' };
    expect(waitBeforeRetry({ ...base, headers, retry: { after: ['a', 'b'] } })).toBe(9000);
  });
  it('jitters backoff between half and all of it', () => {
    expect(waitBeforeRetry({ ...base, headers: {}, retry: undefined, random: () => 0 })).toBe(50);
  });
});
