import { describe, expect, it } from 'vitest';
import { storableJson, storableText, toJson } from './values.js';

describe('storableText', () => {
  it.each([
    { given: 'plain', want: 'plain' },
    { given: 'a\u0000b', want: 'a\ufffdb' },
    { given: '\u0000\u0000', want: '\ufffd\ufffd' },
    { given: 'lone \ud800 high', want: 'lone \ufffd high' },
    { given: 'lone \udc00 low', want: 'lone \ufffd low' },
    { given: 'pair 😀 kept', want: 'pair 😀 kept' },
    { given: 'reversed \udc00\ud800', want: 'reversed \ufffd\ufffd' },
    { given: 'a backslash-u0000 is text: \\u0000', want: 'a backslash-u0000 is text: \\u0000' },
  ])('$given', ({ given, want }) => {
    expect(storableText(given)).toBe(want);
  });
});

describe('toJson', () => {
  it.each([
    { given: { a: 'x\u0000y' }, want: { a: 'x\ufffdy' } },
    { given: { 'k\u0000': ['\ud83d', 'ok'] }, want: { 'k\ufffd': ['\ufffd', 'ok'] } },
    { given: { a: '\\u0000' }, want: { a: '\\u0000' } },
    { given: { a: '\\\u0000' }, want: { a: '\\\ufffd' } },
    { given: { a: '\\\\u0000' }, want: { a: '\\\\u0000' } },
    { given: { emoji: '😀' }, want: { emoji: '😀' } },
  ])('$given', ({ given, want }) => {
    const text = toJson(given) ?? '';
    expect(JSON.parse(text)).toEqual(want);
  });

  it('leaves JSON without escapes untouched (the same string)', () => {
    const text = JSON.stringify({ a: 'b' });
    expect(storableJson(text)).toBe(text);
  });
});
