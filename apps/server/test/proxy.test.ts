import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';
import { call, rawGet, seedProxyConnections } from './proxyClient.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

let upstream: ProxyUpstream;
afterAll(async () => upstream?.close());

describeEachDatabase(
  'proxy',
  (get) => {
    beforeAll(async () => {
      await seedProxyConnections(get());
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

    it('takes an empty Base-Url-Override or Nango-Activity-Log-Id as absent (the SDK and scripts always send both)', async () => {
      const ts = get();
      const { res, attempts } = await call(ts, '/echo?empty=1', {
        headers: { 'base-url-override': '', 'nango-activity-log-id': '' },
      });
      expect(res.status).toBe(200);
      expect(attempts).toBe(1);
      const seen = (await res.json()) as { url: string; headers: Record<string, string> };
      expect(seen.url).toBe('/echo?empty=1');
      expect(seen.headers.authorization).toBe('Bearer access-initial');
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

    it('streams a 100 MB download through', async () => {
      const ts = get();
      const { res, attempts } = await call(ts, '/big?mb=100');
      expect(res.headers.get('content-length')).toBe(String(100 * 1024 * 1024));
      let total = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) total += chunk.length;
      expect(total).toBe(100 * 1024 * 1024);
      expect(attempts).toBe(1);
      // That it is streamed, not held, is behaviour in proxyStreams.test.ts (a client that stops reading stops
      // the upstream within 16 MB); the server's RSS while streaming is a figure of bench/proxy.ts.
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

    it('lets each integration decide where Base-Url-Override may point', async () => {
      const ts = get();
      const elsewhere = upstream.url.replace('127.0.0.1', 'localhost'); // the same server under another host name
      const credentials = { type: 'API_KEY', apiKey: 'sk_live_secret' };
      const policies = [
        { policy: 'off', override: `${upstream.url}/v1`, want: 403 },
        { policy: 'same-host', override: `${elsewhere}/v1`, want: 403 },
        { policy: 'any', override: `${elsewhere}/v1`, want: 200 },
        { policy: null, override: `${elsewhere}/v1`, want: 403 }, // the server default: same-host
      ];
      for (const [i, { policy, override, want }] of policies.entries()) {
        const patched = await ts.api('PATCH', '/integrations/key', { proxy_base_url_override: policy });
        expect(patched.body.data.proxy_base_url_override).toBe(policy);
        // a new connection, so no earlier resolution of the integration is reused
        const connection = `policy-${i}`;
        expect(
          (
            await ts.api('POST', '/connections', {
              provider_config_key: 'key',
              connection_id: connection,
              credentials,
            })
          ).status,
        ).toBe(201);
        const { res } = await call(ts, '/echo', {
          connection,
          integration: 'key',
          headers: { 'base-url-override': override },
        });
        expect([policy, res.status]).toEqual([policy, want]);
        if (want === 403)
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden_url');
        else expect(((await res.json()) as { url: string }).url).toBe('/v1/echo?api_key=sk_live_secret');
      }
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
      upstream ??= await startProxyUpstream();
      return {
        // Port 9 is privileged and unassigned here: the OAuth URLs of fake-api are never called in this file.
        providersFile: proxyProvidersFile(upstream.url, 'http://127.0.0.1:9'),
        proxy: { allowPrivateNetworks: true, backoffBaseMs: 20, maxWaitMs: 5000, timeoutMs: 3000 },
      };
    },
  },
);
