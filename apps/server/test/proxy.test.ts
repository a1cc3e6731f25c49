import { request } from 'node:http';
import { expect, it } from 'vitest';
import { startFakeOAuth, type FakeOAuth } from './fakeOAuth.js';
import { describeEachDatabase, type TestServer } from './harness.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

let upstream: ProxyUpstream;
let oauth: FakeOAuth;
let counter = 0;
/** A fresh key, so that the fake's per-key failure counters never leak between tests. */
const key = (): string => `k${++counter}-${Date.now()}`;

async function call(
  ts: TestServer,
  path: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: RequestInit['body'];
    connection?: string;
    integration?: string;
  } = {},
) {
  const res = await fetch(`${ts.url}/proxy${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${ts.secretKey}`,
      'connection-id': init.connection ?? 'c1',
      'provider-config-key': init.integration ?? 'api',
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body, duplex: 'half' } : {}),
  });
  return {
    res,
    attempts: Number(res.headers.get('x-ferry-proxy-attempts')),
    upstreamError: res.headers.get('x-ferry-upstream-error'),
  };
}

function rawGet(ts: TestServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${ts.url}${path}`, {
      headers: {
        authorization: `Bearer ${ts.secretKey}`,
        'connection-id': 'c1',
        'provider-config-key': 'api',
      },
    });
    req.path = path;
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeEachDatabase(
  'proxy',
  (get) => {
    it('sets up integrations and connections', async () => {
      const ts = get();
      const ok = async (p: Promise<{ status: number; body: unknown }>, status: number) =>
        expect((await p).status).toBe(status);
      await ok(
        ts.api('POST', '/integrations', {
          provider: 'fake-api',
          unique_key: 'api',
          credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret' },
        }),
        200,
      );
      await ok(ts.api('POST', '/integrations', { provider: 'fake-key', unique_key: 'key' }), 200);
      await ok(
        ts.api('POST', '/connections', {
          provider_config_key: 'api',
          connection_id: 'c1',
          credentials: {
            type: 'OAUTH2',
            access_token: 'access-initial',
            refresh_token: 'r1',
            expires_at: '2099-01-01T00:00:00Z',
          },
        }),
        201,
      );
      await ok(
        ts.api('POST', '/connections', {
          provider_config_key: 'api',
          connection_id: 'stale',
          credentials: {
            type: 'OAUTH2',
            access_token: 'expired-token',
            refresh_token: 'r2',
            expires_at: '2099-01-01T00:00:00Z',
          },
        }),
        201,
      );
      await ok(
        ts.api('POST', '/connections', {
          provider_config_key: 'key',
          connection_id: 'k1',
          credentials: { type: 'API_KEY', apiKey: 'sk_live_secret' },
        }),
        201,
      );
    });

    it('forwards method, path, query, Nango-Proxy-* headers and the injected auth; never hop-by-hop or an auth override', async () => {
      const ts = get();
      const { res, attempts } = await call(ts, '/echo?a=1&b=two%20words', {
        headers: {
          'nango-proxy-x-custom': 'yes',
          'nango-proxy-authorization': 'Bearer evil',
          'nango-proxy-connection': 'close',
          'nango-proxy-te': 'trailers',
          'x-not-forwarded': 'no',
        },
      });
      expect(res.status).toBe(200);
      expect(attempts).toBe(1);
      const seen = (await res.json()) as { url: string; headers: Record<string, string> };
      expect(seen.url).toBe('/echo?a=1&b=two%20words');
      expect(seen.headers.authorization).toBe('Bearer access-initial');
      expect(seen.headers['x-custom']).toBe('yes');
      expect(seen.headers['x-api-version']).toBe('2024-01-01');
      expect(seen.headers['x-not-forwarded']).toBeUndefined();
      expect(seen.headers.te).toBeUndefined();
      expect(seen.headers.connection).toBe('keep-alive');
    });

    it('injects an API key through the provider templates, under the base path, and the caller cannot override it', async () => {
      const ts = get();
      const { res } = await call(ts, '/echo?api_key=evil&x=1', {
        connection: 'k1',
        integration: 'key',
        headers: { 'nango-proxy-x-api-key': 'evil' },
      });
      const seen = (await res.json()) as { url: string; headers: Record<string, string> };
      expect(seen.url).toBe('/v1/echo?x=1&api_key=sk_live_secret');
      expect(seen.headers['x-api-key']).toBe('sk_live_secret');
      expect(seen.headers.authorization).toBeUndefined();
    });

    it('streams a binary body and a multipart body upstream unchanged', async () => {
      const ts = get();
      const blob = Buffer.alloc(3 * 1024 * 1024, 7);
      blob.write('not json at all');
      const { res } = await call(ts, '/echo', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: blob,
      });
      const seen = (await res.json()) as {
        body_length: number;
        body_sha256: string;
        headers: Record<string, string>;
      };
      expect(seen.body_length).toBe(blob.length);
      expect(seen.body_sha256).toBe(
        (await import('node:crypto')).createHash('sha256').update(blob).digest('hex'),
      );
      expect(seen.headers['content-type']).toBe('application/octet-stream');
      const form = new FormData();
      form.append('field', 'value');
      form.append('file', new Blob(['file-content']), 'a.txt');
      const multipart = await call(ts, '/echo', { method: 'PUT', body: form });
      const m = (await multipart.res.json()) as {
        method: string;
        body_text: string;
        headers: Record<string, string>;
      };
      expect(m.method).toBe('PUT');
      expect(m.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      expect(m.body_text).toContain('file-content');
    });

    it('waits out a GitHub-style rate limit (x-ratelimit-remaining: 0, x-ratelimit-reset in epoch seconds)', async () => {
      const ts = get();
      const k = key();
      const t0 = Date.now();
      const { res, attempts } = await call(ts, `/github-limit?key=${k}`, { headers: { retries: '2' } });
      expect(res.status).toBe(200);
      expect(attempts).toBe(2);
      expect(upstream.hits('/github-limit').filter((h) => h.url.includes(k))).toHaveLength(2);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(Math.max(0, 1000 - (t0 % 1000)) - 50);
    });

    it('honours Retry-After in seconds and as an HTTP date', async () => {
      const ts = get();
      for (const form of ['seconds', 'date']) {
        const k = key();
        const t0 = Date.now();
        const { res, attempts } = await call(ts, `/retry-after?key=${k}&form=${form}`, {
          headers: { retries: '3' },
        });
        expect(res.status).toBe(200);
        expect(attempts).toBe(2);
        expect(upstream.hits('/retry-after').filter((h) => h.url.includes(k))).toHaveLength(2);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(form === 'seconds' ? 950 : 400);
      }
    });

    it('passes a 429 back at once when the provider asks to wait longer than the maximum wait', async () => {
      const ts = get();
      const k = key();
      const t0 = Date.now();
      const { res, attempts, upstreamError } = await call(ts, `/retry-after?key=${k}&form=long`, {
        headers: { retries: '5' },
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3600');
      expect(upstreamError).toBe('true');
      expect(await res.json()).toEqual({ error: 'slow down' });
      expect(attempts).toBe(1);
      expect(Date.now() - t0).toBeLessThan(1000);
    });

    it('retries flaky 5xx up to Retries, then passes the last upstream error through', async () => {
      const ts = get();
      const k1 = key();
      const ok = await call(ts, `/flaky?key=${k1}&fail=2`, { headers: { retries: '3' } });
      expect(ok.res.status).toBe(200);
      expect(ok.attempts).toBe(3);
      expect(upstream.hits('/flaky').filter((h) => h.url.includes(k1))).toHaveLength(3);
      const k2 = key();
      const failed = await call(ts, `/flaky?key=${k2}&fail=5`, { headers: { retries: '1' } });
      expect(failed.res.status).toBe(502);
      expect(failed.upstreamError).toBe('true');
      expect(await failed.res.json()).toEqual({ error: 'flaky', attempt: 2 });
      expect(failed.attempts).toBe(2);
      const k3 = key();
      const none = await call(ts, `/flaky?key=${k3}&fail=1`);
      expect([none.res.status, none.attempts]).toEqual([502, 1]);
    });

    it('retries the statuses listed in Retry-On', async () => {
      const ts = get();
      const k = key();
      const { res, attempts } = await call(ts, `/flaky?key=${k}&fail=1&status=409`, {
        headers: { retries: '1', 'retry-on': '409' },
      });
      expect([res.status, attempts]).toEqual([200, 2]);
      const k2 = key();
      const plain = await call(ts, `/flaky?key=${k2}&fail=1&status=409`, { headers: { retries: '1' } });
      expect([plain.res.status, plain.attempts]).toEqual([409, 1]);
    });

    it('answers proxy_timeout when the provider is too slow', async () => {
      const ts = get();
      const { res, attempts } = await call(ts, '/slow?ms=5000');
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('proxy_timeout');
      expect(attempts).toBe(1);
    });

    it('passes gzip through as it came, or decompresses it with Decompress: true', async () => {
      const ts = get();
      const raw = await call(ts, '/gzip');
      expect(raw.res.headers.get('content-encoding')).toBe('gzip');
      expect(((await raw.res.json()) as { compressed: boolean }).compressed).toBe(true);
      const plain = await call(ts, '/gzip', { headers: { decompress: 'true' } });
      expect(plain.res.headers.get('content-encoding')).toBeNull();
      expect(((await plain.res.json()) as { compressed: boolean }).compressed).toBe(true);
      expect(plain.attempts).toBe(1);
      const asked = upstream.hits('/gzip').at(-1);
      expect(asked?.headers['accept-encoding']).toBe('gzip, deflate, br');
    });

    it('streams a 100 MB download without holding it in memory', async () => {
      const ts = get();
      const before = process.memoryUsage().rss;
      let peak = before;
      const { res, attempts } = await call(ts, '/big?mb=100');
      expect(res.headers.get('content-length')).toBe(String(100 * 1024 * 1024));
      let total = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if ((total & 0xfffff) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
      }
      expect(total).toBe(100 * 1024 * 1024);
      expect(attempts).toBe(1);
      // Server and client share this process; the bench measures the server alone.
      expect(peak - before).toBeLessThan(80 * 1024 * 1024);
    });

    it('refreshes once on a 401 and retries with the new token', async () => {
      const ts = get();
      const refreshesBefore = oauth.calls.length;
      const hitsBefore = upstream.hits('/protected').length;
      const { res, attempts } = await call(ts, '/protected', { connection: 'stale' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { token: string }).token).toMatch(/^access-\d+$/);
      expect(attempts).toBe(2);
      expect(oauth.calls.length - refreshesBefore).toBe(1);
      expect(upstream.hits('/protected').length - hitsBefore).toBe(2);
      // An API key cannot be refreshed: the 401 comes back after one attempt.
      const key401 = await call(ts, '/protected', { connection: 'k1', integration: 'key' });
      expect([key401.res.status, key401.attempts, key401.upstreamError]).toEqual([401, 1, 'true']);
      expect(key401.res.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('refuses path escapes, absolute URLs, CR/LF and foreign base URL overrides', async () => {
      const ts = get();
      const before = upstream.seen.length;
      for (const path of [
        '/%2e%2e/admin',
        '/a/../../admin',
        '/a/..%2f..%2fadmin',
        '/http://evil.example/x',
        '/echo%0d%0aX-Injected:%201',
      ]) {
        // node:http sends the path as written (fetch and undici normalise dot segments away).
        const res = await rawGet(ts, `/proxy${path}`);
        expect([path, res.status]).toEqual([path, 400]);
        expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('invalid_uri_params');
      }
      const foreign = await call(ts, '/echo', { headers: { 'base-url-override': 'https://evil.example' } });
      expect(foreign.res.status).toBe(403);
      const same = await call(ts, '/echo', { headers: { 'base-url-override': `${upstream.url}/v1` } });
      expect(((await same.res.json()) as { url: string }).url).toBe('/v1/echo');
      expect(upstream.seen.length - before).toBe(1);
    });

    it('answers Ferry errors in the envelope', async () => {
      const ts = get();
      const unknown = await call(ts, '/echo', { connection: 'nope' });
      expect(unknown.res.status).toBe(404);
      expect(await unknown.res.json()).toMatchObject({ error: { code: 'unknown_connection' } });
      const res = await fetch(`${ts.url}/proxy/echo`, {
        headers: { authorization: `Bearer ${ts.secretKey}` },
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_headers' } });
      const anon = await fetch(`${ts.url}/proxy/echo`, {
        headers: { 'connection-id': 'c1', 'provider-config-key': 'api' },
      });
      expect(anon.status).toBe(401);
    });

    it('logs each request as an operation without secrets', async () => {
      const ts = get();
      await call(ts, '/echo?x=1', { connection: 'k1', integration: 'key' });
      const ops = await ts.api('GET', '/logs/operations?kind=proxy&limit=50');
      const op = (
        ops.body as { data: { connection_id: string; status: string; meta: Record<string, unknown> }[] }
      ).data.find((o) => o.connection_id === 'k1' && String(o.meta.url).includes('/v1/echo'));
      expect(op?.status).toBe('success');
      expect(op?.meta).toMatchObject({
        method: 'GET',
        status: 200,
        attempts: 1,
        url: `${upstream.url}/v1/echo?x=1&api_key=[redacted]`,
      });
      expect(typeof op?.meta.duration_ms).toBe('number');
      expect(op?.meta.request_headers).toEqual({ 'x-api-key': '[redacted]' });
      expect(op?.meta.bytes_out).toBeGreaterThan(100);
      expect(JSON.stringify(ops.body)).not.toContain('sk_live_secret');
    });
  },
  {
    setup: async () => {
      upstream = await startProxyUpstream();
      oauth = await startFakeOAuth();
      return {
        providersFile: proxyProvidersFile(upstream.url, oauth.url),
        proxy: { allowPrivateNetworks: true, backoffBaseMs: 20, maxWaitMs: 5000, timeoutMs: 3000 },
      };
    },
  },
);
