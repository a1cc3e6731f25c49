import { describe, expect, it } from 'vitest';
import { isSandboxError } from './errors.js';
import { toPlain } from './plain.js';

describe('toPlain', () => {
  it.each([
    { name: 'primitives', given: ['s', 1, true, null], want: ['s', 1, true, null] },
    {
      name: 'JSON semantics',
      given: { d: new Date(0), u: undefined, f: () => 1, n: NaN, l: [undefined, () => 1] },
      want: { d: '1970-01-01T00:00:00.000Z', n: null, l: [null, null] },
    },
    { name: 'toJSON', given: { v: { toJSON: () => 'custom' } }, want: { v: 'custom' } },
    {
      name: 'class instances as their own fields',
      given: new (class {
        a = 1;
      })(),
      want: { a: 1 },
    },
    {
      name: 'getters read once',
      given: {
        get g() {
          return 2;
        },
      },
      want: { g: 2 },
    },
    {
      name: 'a __proto__ key stays data',
      given: JSON.parse('{"__proto__":{"x":1}}'),
      want: JSON.parse('{"__proto__":{"x":1}}'),
    },
  ])('$name', ({ given, want }) => {
    const out = toPlain(given, 'invalid_record');
    expect(out).toEqual(want);
    expect(Object.getPrototypeOf(out ?? {})).not.toHaveProperty('x');
  });

  it('copies bytes only when asked', () => {
    expect(toPlain(new Uint8Array([1, 2]), 'c', true)).toEqual(new Uint8Array([1, 2]));
    expect(toPlain(new Uint8Array([1, 2]), 'c')).toEqual({ 0: 1, 1: 2 });
  });

  it.each([
    {
      name: 'a cycle',
      make: () => {
        const a: Record<string, unknown> = {};
        a.a = a;
        return a;
      },
      want: /cycle/,
    },
    { name: 'a bigint', make: () => ({ n: 1n }), want: /bigint/ },
    {
      name: 'depth',
      make: () => JSON.parse('['.repeat(80) + ']'.repeat(80)) as unknown,
      want: /deeper than 64/,
    },
  ])('throws the given code on $name', ({ make, want }) => {
    let thrown: unknown;
    try {
      toPlain(make(), 'invalid_record');
    } catch (error) {
      thrown = error;
    }
    expect(isSandboxError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: 'invalid_record', message: expect.stringMatching(want) });
  });
});
