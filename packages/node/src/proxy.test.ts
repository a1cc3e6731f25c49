import { describe, expect, it } from 'vitest';
import { fromProxyResponse, toProxyRequest, type ProxyConfiguration } from './proxy.js';
import { FerryError } from './errors.js';

const base = { providerConfigKey: 'github', connectionId: 'u1' } as const;

describe('toProxyRequest', () => {
  const given: {
    name: string;
    config: ProxyConfiguration;
    want: Partial<ReturnType<typeof toProxyRequest>>;
  }[] = [
    {
      name: 'GET by default, leading slash added',
      config: { ...base, endpoint: 'user' },
      want: { method: 'GET', path: '/proxy/user' },
    },
    {
      name: 'object params',
      config: { ...base, endpoint: '/search', params: { q: 'a b', n: 2 } },
      want: { path: '/proxy/search?q=a+b&n=2' },
    },
    {
      name: 'params after an endpoint query',
      config: { ...base, endpoint: '/s?x=1', params: { y: 2 } },
      want: { path: '/proxy/s?x=1&y=2' },
    },
    {
      name: 'string params',
      config: { ...base, endpoint: '/s', params: '?x=1' },
      want: { path: '/proxy/s?x=1' },
    },
    {
      name: 'JSON body',
      config: { ...base, endpoint: '/e', method: 'post', data: { a: 1 } },
      want: { method: 'POST', body: '{"a":1}' },
    },
  ];
  for (const { name, config, want } of given) {
    it(name, () => {
      expect(toProxyRequest(config, 'key')).toMatchObject(want);
    });
  }

  it('sends control headers and user headers the way Nango does', () => {
    const { headers } = toProxyRequest(
      {
        ...base,
        endpoint: '/e',
        headers: { 'Content-Type': 'text/csv', 'X-A': '1' },
        retries: 3,
        retryOn: [409, 423],
        decompress: true,
        baseUrlOverride: 'https://uploads.github.com',
      },
      'key',
    );
    expect(headers).toEqual({
      'connection-id': 'u1',
      'provider-config-key': 'github',
      'nango-proxy-content-type': 'text/csv',
      'content-type': 'text/csv',
      'nango-proxy-x-a': '1',
      retries: '3',
      'retry-on': '409,423',
      decompress: 'true',
      'base-url-override': 'https://uploads.github.com',
    });
  });

  it('rejects misuse with a TypeError', () => {
    expect(() => toProxyRequest({ ...base, endpoint: '' }, 'k')).toThrow(TypeError);
    expect(() => toProxyRequest({ ...base, endpoint: '/s?x=1', params: 'y=2' }, 'k')).toThrow(TypeError);
  });
});

describe('fromProxyResponse', () => {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  });

  it('returns the provider answer, errors included', () => {
    const res = fromProxyResponse(
      json(404, { message: 'nope' }, { 'x-ferry-proxy-attempts': '1', 'x-ferry-upstream-error': 'true' }),
      undefined,
    );
    expect(res).toMatchObject({ status: 404, data: { message: 'nope' }, attempts: 1 });
  });

  it("throws Ferry's own errors", () => {
    expect(() =>
      fromProxyResponse(json(504, { error: { code: 'proxy_timeout', message: 'slow' } }), undefined),
    ).toThrow(FerryError);
  });

  it('decodes by responseType', () => {
    expect(fromProxyResponse(json(200, { a: 1 }), 'text').data).toBe('{"a":1}');
    expect(fromProxyResponse(json(200, { a: 1 }), 'arraybuffer').data).toBeInstanceOf(Uint8Array);
  });
});
