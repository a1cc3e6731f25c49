import { describe, expect, it } from 'vitest';
import { deepMerge, prepareRecords } from './prepare.js';

describe('prepareRecords', () => {
  it('stores the id as a string, drops _nango_metadata and hashes the JSON', () => {
    const [a, b] = prepareRecords('M', [
      { id: 1, x: 1 },
      { id: 'b', _nango_metadata: { cursor: 'x' } },
    ]);
    expect(a).toMatchObject({ externalId: '1', text: '{"id":"1","x":1}' });
    expect(b).toMatchObject({ externalId: 'b', text: '{"id":"b"}' });
    expect(a!.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(prepareRecords('M', [{ id: 1, x: 1 }])[0]!.hash).toBe(a!.hash);
    expect(prepareRecords('M', [{ id: 1, x: 2 }])[0]!.hash).not.toBe(a!.hash);
  });

  it('stores the text the runtime received when the record is in its stored form, and hashes it alike', () => {
    const sent = ['{"id":"a","x":1}', '{"id":2}', '{"id":"c","_nango_metadata":{}}'];
    const [a, b, c] = prepareRecords(
      'M',
      sent.map((t) => JSON.parse(t) as unknown),
      sent,
    );
    expect(a).toEqual(prepareRecords('M', [{ id: 'a', x: 1 }])[0]);
    expect(a!.text).toBe(sent[0]);
    // a number id or metadata: serialised again
    expect(b!.text).toBe('{"id":"2"}');
    expect(c!.text).toBe('{"id":"c"}');
  });
});

describe('deepMerge', () => {
  it.each([
    [{ a: 1 }, { b: 2 }, { a: 1, b: 2 }],
    [{ a: { x: 1, y: 1 } }, { a: { y: 2 } }, { a: { x: 1, y: 2 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: { x: 1 } }, { a: null }, { a: null }],
    [{ a: 1 }, { a: undefined }, { a: 1 }],
  ])('merges %j with %j', (target, patch, want) => {
    expect(deepMerge(structuredClone(target), patch as Record<string, unknown>)).toEqual(want);
  });
});
