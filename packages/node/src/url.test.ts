import { describe, expect, it } from 'vitest';
import { buildQuery, parseBaseUrl, path, type QueryParams } from './url.js';

describe('buildQuery', () => {
  const cases: { given: QueryParams | undefined; want: string }[] = [
    { given: undefined, want: '' },
    { given: {}, want: '' },
    { given: { search: 'git hub' }, want: '?search=git+hub' },
    { given: { a: undefined, b: null, c: 'x' }, want: '?c=x' },
    { given: { limit: 10, page: 0 }, want: '?limit=10&page=0' },
    { given: { force_refresh: true, refresh_token: false }, want: '?force_refresh=true&refresh_token=false' },
    { given: { include: ['webhook', 'credentials'] }, want: '?include=webhook&include=credentials' },
    { given: { tags: { team: 'core', 'a&b': 'c=d' } }, want: '?tags%5Bteam%5D=core&tags%5Ba%26b%5D=c%3Dd' },
    { given: { integrationId: 'a,b' }, want: '?integrationId=a%2Cb' },
  ];
  it.each(cases)('$given → $want', ({ given, want }) => {
    expect(buildQuery(given)).toBe(want);
  });

  it.each([{ n: Number.NaN }, { n: Infinity }, { n: [{}] }, { n: { deep: { x: 1 } } }, { n: Symbol('s') }])(
    'rejects %o with a TypeError',
    (given) => {
      expect(() => buildQuery(given as unknown as QueryParams)).toThrow(TypeError);
    },
  );
});

describe('path', () => {
  it.each([
    { given: 'plain', want: '/connections/plain' },
    { given: 'a/b', want: '/connections/a%2Fb' },
    { given: 'x?y#z', want: '/connections/x%3Fy%23z' },
    { given: 'my key', want: '/connections/my%20key' },
    { given: '..', want: '/connections/%2E%2E' },
    { given: '.', want: '/connections/%2E' },
  ])('encodes $given', ({ given, want }) => {
    expect(path`/connections/${given}`).toBe(want);
  });

  it('encodes several segments', () => {
    expect(path`/logs/operations/${'1/2'}/messages`).toBe('/logs/operations/1%2F2/messages');
  });
});

describe('parseBaseUrl', () => {
  it.each([
    { given: 'http://localhost:3003', want: { origin: 'http://localhost:3003', prefix: '' } },
    { given: 'http://localhost:3003/', want: { origin: 'http://localhost:3003', prefix: '' } },
    {
      given: 'https://api.example.org/ferry/',
      want: { origin: 'https://api.example.org', prefix: '/ferry' },
    },
    { given: 'HTTPS://API.example.org:443', want: { origin: 'https://api.example.org', prefix: '' } },
  ])('$given', ({ given, want }) => {
    expect(parseBaseUrl(given)).toEqual(want);
  });

  it.each([
    undefined,
    '',
    42,
    'localhost:3003',
    'ftp://x',
    'not a url',
    'http://u:p@x',
    'http://x/?a=1',
    'http://x/#f',
  ])('rejects %o with a TypeError', (given) => {
    expect(() => parseBaseUrl(given)).toThrow(TypeError);
  });
});
