import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { expect, it } from 'vitest';
import { describeEachDatabase, type TestServer } from './harness.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

let upstream: ProxyUpstream;

async function echo(ts: TestServer, integration: string, path: string, method = 'GET') {
  const res = await fetch(`${ts.url}/proxy${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ts.secretKey}`,
      'connection-id': 'c1',
      'provider-config-key': integration,
    },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { url: string; headers: Record<string, string> };
}

describeEachDatabase(
  'proxy auth injection',
  (get) => {
    it('Basic: base64 of username:password, base URL from the connection config', async () => {
      const ts = get();
      await ts.api('POST', '/integrations', { provider: 'fake-basic', unique_key: 'basic' });
      const created = await ts.api('POST', '/connections', {
        provider_config_key: 'basic',
        connection_id: 'c1',
        credentials: { type: 'BASIC', username: 'ada', password: 'lovelace' },
        connection_config: { base: `${upstream.url}/v1` },
      });
      expect(created.status).toBe(201);
      const seen = await echo(ts, 'basic', '/echo');
      expect(seen.url).toBe('/v1/echo');
      expect(seen.headers.authorization).toBe(`Basic ${Buffer.from('ada:lovelace').toString('base64')}`);
    });

    it('OAuth 1.0a: an HMAC-SHA1 signature over method, URL and query, with the integration as consumer', async () => {
      const ts = get();
      await ts.api('POST', '/integrations', {
        provider: 'fake-oauth1',
        unique_key: 'o1',
        credentials: { type: 'OAUTH1', client_id: 'ck', client_secret: 'cs' },
      });
      await ts.api('POST', '/connections', {
        provider_config_key: 'o1',
        connection_id: 'c1',
        credentials: { type: 'OAUTH1', oauth_token: 'tk', oauth_token_secret: 'tks' },
      });
      const seen = await echo(ts, 'o1', '/echo?q=a%20b&n=1', 'DELETE');
      const header = seen.headers.authorization ?? '';
      expect(header).toMatch(/^OAuth /);
      const params = Object.fromEntries(
        [...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], decodeURIComponent(m[2] ?? '')]),
      );
      expect(params).toMatchObject({
        oauth_consumer_key: 'ck',
        oauth_token: 'tk',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_version: '1.0',
      });
      const oauth = new OAuth({
        consumer: { key: 'ck', secret: 'cs' },
        signature_method: 'HMAC-SHA1',
        hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
      });
      const { oauth_signature: signature, ...data } = params as Record<string, string>;
      const want = oauth.getSignature(
        { url: `${upstream.url}/echo?q=a%20b&n=1`, method: 'DELETE' },
        'tks',
        data as unknown as OAuth.Authorization,
      );
      expect(signature).toBe(want);
    });

    it('OAuth 1.0a: a form body is part of the signature', async () => {
      const ts = get();
      const res = await fetch(`${ts.url}/proxy/echo`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ts.secretKey}`,
          'connection-id': 'c1',
          'provider-config-key': 'o1',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'status=hello%20world&n=2',
      });
      const seen = (await res.json()) as { headers: Record<string, string>; body_text: string };
      expect(seen.body_text).toBe('status=hello%20world&n=2');
      const params = Object.fromEntries(
        [...(seen.headers.authorization ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [
          m[1],
          decodeURIComponent(m[2] ?? ''),
        ]),
      ) as Record<string, string>;
      const { oauth_signature: signature, ...data } = params;
      const oauth = new OAuth({
        consumer: { key: 'ck', secret: 'cs' },
        signature_method: 'HMAC-SHA1',
        hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
      });
      const want = oauth.getSignature(
        { url: `${upstream.url}/echo`, method: 'POST', data: { status: 'hello world', n: '2' } },
        'tks',
        data as unknown as OAuth.Authorization,
      );
      expect(signature).toBe(want);
    });
  },
  {
    setup: async () => {
      upstream = await startProxyUpstream();
      return {
        providersFile: proxyProvidersFile(upstream.url, 'http://127.0.0.1:9'),
        proxy: { allowPrivateNetworks: true },
      };
    },
  },
);
