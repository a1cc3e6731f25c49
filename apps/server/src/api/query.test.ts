import { describe, expect, it } from 'vitest';
import { parseQuery } from './query.js';

describe('parseQuery', () => {
  it.each([
    { given: '', want: {} },
    { given: 'a=1&b=two%20words', want: { a: '1', b: 'two words' } },
    { given: 'include=a&include=b', want: { include: ['a', 'b'] } },
    { given: 'tags[plan]=pro&tags[seats]=3', want: { tags: { plan: 'pro', seats: '3' } } },
    { given: 'tags%5Bplan%5D=pro', want: { tags: { plan: 'pro' } } },
    { given: 'a[b][c][d]=1', want: { a: { b: { c: { '[d]': '1' } } } } },
    { given: '__proto__[x]=1', want: {} },
  ])('$given', ({ given, want }) => {
    expect(parseQuery(given)).toEqual(want);
  });
});
