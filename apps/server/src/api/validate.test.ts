import { describe, expect, it } from 'vitest';
import { checkInputValue, checkRequestInput, MAX_FILTER_VALUES, MAX_JSON_DEPTH } from './validate.js';

const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

describe('checkInputValue', () => {
  it.each([
    { given: { a: 'x' }, ok: true },
    { given: nested(MAX_JSON_DEPTH), ok: true },
    { given: nested(MAX_JSON_DEPTH + 1), ok: false, path: '0'.repeat(MAX_JSON_DEPTH).split('').join('.') },
    { given: { a: ['ok', 'b\u0000'] }, ok: false, path: 'a.1' },
    { given: { ['k\u0000']: 1 }, ok: false, path: 'k\u0000' },
    { given: 'top\u0000', ok: false, path: '' },
    { given: { a: 'x\ud800' }, ok: false, path: 'a' },
    { given: { ['\udc00']: 1 }, ok: false, path: '\udc00' },
    { given: { a: '😀 \ud83d\ude00' }, ok: true },
    { given: { a: null, b: 1, c: true }, ok: true },
  ])('$given → ok: $ok', ({ given, ok, path }) => {
    const run = () => checkInputValue(given, { code: 'invalid_body', maxDepth: MAX_JSON_DEPTH });
    if (ok) expect(run).not.toThrow();
    else
      expect(run).toThrow(
        expect.objectContaining({ code: 'invalid_body', errors: [expect.objectContaining({ path })] }),
      );
  });

  it('walks a million levels without recursion', () => {
    expect(() =>
      checkInputValue(nested(1_000_000), { code: 'invalid_body', maxDepth: MAX_JSON_DEPTH }),
    ).toThrow(expect.objectContaining({ code: 'invalid_body' }));
  });
});

describe('checkRequestInput', () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
  it.each([
    { given: { path: '/connections/a', query: { tags: many(MAX_FILTER_VALUES) } }, code: undefined },
    {
      given: { path: '/connections/a', query: { tags: many(MAX_FILTER_VALUES + 1) } },
      code: 'invalid_query_params',
    },
    {
      given: { path: '/x', query: { include: Array(MAX_FILTER_VALUES + 1).fill('a') } },
      code: 'invalid_query_params',
    },
    { given: { path: '/x', query: { search: 'a\u0000' } }, code: 'invalid_query_params' },
    { given: { path: '/connections/a%00b', query: {} }, code: 'invalid_uri_params' },
    { given: { path: '/x', query: {}, body: { a: '\u0000' } }, code: 'invalid_body' },
  ])('$given.path $given.query → $code', ({ given, code }) => {
    const run = () => checkRequestInput(given);
    if (!code) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code }));
  });
});
