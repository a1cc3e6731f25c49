import { Ferry, FerryError } from '@ferry/node';
import { Nango } from '@nangohq/node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

let upstream: ProxyUpstream;
const conn = { providerConfigKey: 'api', connectionId: 'c1' } as const;
type Echo = { method: string; url: string; headers: Record<string, string>; body_text: string };

describeEachDatabase(
  'proxy through the SDKs',
  (get) => {
    let ferry: Ferry;
    let nango: Nango;
    beforeAll(async () => {
      const ts = get();
      await ts.api('POST', '/integrations', {
        provider: 'fake-api',
        unique_key: 'api',
        credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' },
      });
      await ts.api('POST', '/connections', {
        provider_config_key: 'api',
        connection_id: 'c1',
        credentials: { type: 'OAUTH2', access_token: 'sdk-token' },
      });
      ferry = new Ferry({ host: ts.url, secretKey: ts.secretKey });
      nango = new Nango({ host: ts.url, secretKey: ts.secretKey });
    });
    afterAll(() => ferry.close());

    it('@ferry/node: proxy, get, post, put, patch, delete', async () => {
      const got = await ferry.get<Echo>({
        ...conn,
        endpoint: '/echo',
        params: { a: 1, b: 'x y' },
        headers: { 'X-Custom': 'yes' },
      });
      expect(got.status).toBe(200);
      expect(got.attempts).toBe(1);
      expect(got.data.url).toBe('/echo?a=1&b=x+y');
      expect(got.data.headers).toMatchObject({ 'x-custom': 'yes', authorization: 'Bearer sdk-token' });
      const posted = await ferry.post<Echo>({ ...conn, endpoint: 'echo', data: { hello: 'world' } });
      expect([posted.data.method, posted.data.body_text, posted.data.headers['content-type']]).toEqual([
        'POST',
        '{"hello":"world"}',
        'application/json',
      ]);
      for (const method of ['put', 'patch', 'delete'] as const) {
        const res = await ferry[method]<Echo>({
          ...conn,
          endpoint: '/echo',
          data: 'raw text',
          headers: { 'Content-Type': 'text/plain' },
        });
        expect([res.data.method, res.data.body_text]).toEqual([method.toUpperCase(), 'raw text']);
      }
      const head = await ferry.proxy({ ...conn, endpoint: '/json', method: 'HEAD' });
      expect([head.status, head.data]).toEqual([200, '']);
    });

    it('@ferry/node: retries, upstream errors as answers, Ferry errors thrown', async () => {
      const key = `sdk-${Date.now()}`;
      const retried = await ferry.get<{ attempt: number }>({
        ...conn,
        endpoint: '/flaky',
        params: { key, fail: 2 },
        retries: 2,
      });
      expect([retried.status, retried.attempts, retried.data.attempt]).toEqual([200, 3, 3]);
      const failed = await ferry.get({ ...conn, endpoint: '/flaky', params: { key: `${key}-b`, fail: 1 } });
      expect([failed.status, failed.attempts, failed.headers['x-ferry-upstream-error']]).toEqual([
        502,
        1,
        'true',
      ]);
      const error = await ferry
        .get({ ...conn, connectionId: 'missing', endpoint: '/echo' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FerryError);
      expect((error as FerryError).code).toBe('unknown_connection');
      await expect(ferry.get({ ...conn, endpoint: undefined as never })).rejects.toThrow(TypeError);
    });

    it('@nangohq/node@0.71.10: proxy, get and post work unchanged', async () => {
      const proxied = await nango.proxy<Echo>({
        ...conn,
        method: 'GET',
        endpoint: '/echo',
        params: { a: '1' },
        headers: { 'X-Custom': 'yes' },
      });
      expect(proxied.status).toBe(200);
      expect(proxied.data.url).toBe('/echo?a=1');
      expect(proxied.data.headers).toMatchObject({ 'x-custom': 'yes', authorization: 'Bearer sdk-token' });
      expect(proxied.headers['x-ferry-proxy-attempts']).toBe('1');
      const got = await nango.get<Echo>({ ...conn, endpoint: '/echo' });
      expect(got.data.method).toBe('GET');
      const posted = await nango.post<Echo>({ ...conn, endpoint: '/echo', data: { hello: 'world' } });
      expect([posted.data.method, posted.data.body_text]).toEqual(['POST', '{"hello":"world"}']);
      const key = `nango-${Date.now()}`;
      const retried = await nango.get<{ attempt: number }>({
        ...conn,
        endpoint: `/flaky?key=${key}&fail=1`,
        retries: 1,
      });
      expect(retried.data.attempt).toBe(2);
      const failure = await nango
        .get({ ...conn, endpoint: `/flaky?key=${key}-b&fail=1` })
        .catch((e: unknown) => e);
      expect((failure as { response?: { status: number } }).response?.status).toBe(502);
    });
  },
  {
    setup: async () => {
      upstream = await startProxyUpstream();
      return {
        providersFile: proxyProvidersFile(upstream.url, 'http://127.0.0.1:9'),
        proxy: { allowPrivateNetworks: true, backoffBaseMs: 10 },
      };
    },
  },
);
