import { describe, expect, it } from 'vitest';
import { normalizeRecords, splitRecordTexts } from './records.js';

describe('normalizeRecords', () => {
  const cyclic: Record<string, unknown> = { id: 1 };
  cyclic.self = cyclic;
  const shared = { n: 1 };

  it.each([
    {
      name: 'plain data untouched',
      given: [{ id: 'a', n: 1, b: true, s: 'x', l: [1, 'y'], o: { p: null } }],
      want: [{ id: 'a', n: 1, b: true, s: 'x', l: [1, 'y'], o: { p: null } }],
    },
    {
      name: 'Dates become ISO strings',
      given: [{ id: 1, at: new Date(0), bad: new Date(NaN) }],
      want: [{ id: 1, at: '1970-01-01T00:00:00.000Z', bad: null }],
    },
    {
      name: 'undefined fields go, undefined items become null',
      given: [{ id: 1, u: undefined, l: [undefined] }],
      want: [{ id: 1, l: [null] }],
    },
    {
      name: 'non-finite numbers become null',
      given: [{ id: 1, a: NaN, b: Infinity }],
      want: [{ id: 1, a: null, b: null }],
    },
    {
      name: 'shared (not cyclic) objects are fine',
      given: [{ id: 1, a: shared, b: shared }],
      want: [{ id: 1, a: { n: 1 }, b: { n: 1 } }],
    },
  ])('$name', ({ given, want }) => {
    expect(normalizeRecords(given)).toBeUndefined();
    expect(given).toEqual(want);
  });

  it.each([
    { name: 'a cycle', given: [cyclic], want: /record 0: it holds a cycle/ },
    { name: 'a bigint', given: [{ id: 1, n: 1n }], want: /bigint is not JSON data/ },
    { name: 'a Map', given: [{ id: 1, m: new Map() }], want: /Map is not JSON data/ },
    { name: 'no id', given: [{ id: 1 }, { name: 'x' }], want: /record 1 has no id/ },
    { name: 'an empty id', given: [{ id: '' }], want: /no id/ },
    { name: 'not an object', given: [[1]], want: /record 0 is not an object/ },
    {
      name: 'too deep',
      given: [JSON.parse(`{"id":1,"a":${'['.repeat(70)}${']'.repeat(70)}}`)],
      want: /deeper than 64/,
    },
  ])('refuses $name', ({ given, want }) => {
    expect(normalizeRecords(given as unknown[])).toMatch(want);
  });
});

describe('splitRecordTexts', () => {
  const lengths = (...ns: number[]): Uint8Array => new Uint8Array(new Uint32Array(ns).buffer);
  const a = '{"id":"a","s":"x,y]"}';
  const b = '{"id":"b","o":{"p":[1]}}';

  it('slices each record as sent and parses it on its own', () => {
    expect(splitRecordTexts(`["Item",[${a},${b}]]`, lengths(a.length, b.length))).toEqual({
      model: 'Item',
      records: [JSON.parse(a), JSON.parse(b)],
      texts: [a, b],
    });
  });

  it.each([
    { name: 'lengths not in uint32s', json: `["Item",[${a}]]`, bytes: new Uint8Array(3) },
    { name: 'no records', json: '["Item",[]]', bytes: lengths() },
    {
      name: 'a boundary inside a string',
      json: `["Item",[${a},${b}]]`,
      bytes: lengths(10, a.length + b.length - 9),
    },
    { name: 'lengths longer than the call', json: `["Item",[${a}]]`, bytes: lengths(a.length + 50) },
    {
      name: 'two records in one slice',
      json: `["Item",[${a},${b}]]`,
      bytes: lengths(a.length + 1 + b.length),
    },
    { name: 'padding around a record', json: `["Item",[ ${a}]]`, bytes: lengths(a.length + 1) },
    { name: 'not an object', json: '["Item",[[1]]]', bytes: lengths(3) },
    { name: 'no model', json: `[1,[${a}]]`, bytes: lengths(a.length) },
    { name: 'unterminated', json: `["Item",[${a}`, bytes: lengths(a.length) },
  ])('refuses $name', ({ json, bytes }) => {
    expect(splitRecordTexts(json, bytes)).toBeTypeOf('string');
  });
});
