import { describe, expect, it } from 'vitest';
import { buildTarget } from './target.js';

describe('buildTarget', () => {
  const base = new URL('https://api.example.com/v2?api-version=7');
  const given: { endpoint: string; query?: string; templateQuery?: Record<string, string>; want: string }[] =
    [
      { endpoint: '/users', want: '/v2/users?api-version=7' },
      { endpoint: 'users/1', query: 'a=1&b=2', want: '/v2/users/1?api-version=7&a=1&b=2' },
      { endpoint: '/search?q=x y', want: '/v2/search?api-version=7&q=x%20y' },
      { endpoint: '/é', want: '/v2/%C3%A9?api-version=7' },
      { endpoint: '/a%2Fb', want: '/v2/a%2Fb?api-version=7' },
      {
        endpoint: '/x',
        query: 'key=evil&y=1',
        templateQuery: { key: 's3cret' },
        want: '/v2/x?api-version=7&y=1&key=s3cret',
      },
      { endpoint: 'https://api.example.com/v2/users', want: '/v2/users?api-version=7' },
      { endpoint: '//x#frag', want: '/v2/x?api-version=7' },
    ];
  for (const g of given) {
    it(`${g.endpoint} ${g.query ?? ''}`, () => {
      expect(buildTarget({ base, ...g })).toEqual({ origin: 'https://api.example.com', path: g.want });
    });
  }

  const refused = [
    '/../admin',
    '/a/%2e%2e/b',
    '/a/..%2Fb',
    '/a/.%2e',
    '/x%0d%0aHost: evil',
    '/x\r\n',
    'https://evil.example/v2/users',
    '/http://evil.example/',
  ];
  for (const endpoint of refused) {
    it(`refuses ${JSON.stringify(endpoint)}`, () => {
      expect(() => buildTarget({ base, endpoint })).toThrow(
        expect.objectContaining({ code: 'invalid_uri_params' }),
      );
    });
  }
});
