import { expect, it } from 'vitest';
import { startFakeOAuth, type FakeOAuth } from './fakeOAuth.js';
import { describeEachDatabase } from './harness.js';
import { call, key, seedProxyConnections } from './proxyClient.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

let upstream: ProxyUpstream;
let oauth: FakeOAuth;

describeEachDatabase(
  'proxy retries and rate limits',
  (get) => {
    it('sets up integrations and connections', async () => {
      await seedProxyConnections(get());
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
      // The operation carries one message per retry.
      const ops = await ts.api('GET', '/logs/operations?kind=proxy&limit=100');
      const op = (
        ops.body as { data: { id: string; status: string; meta: { url: string; attempts: number } }[] }
      ).data.find((o) => o.meta.url.includes('/flaky?') && o.meta.attempts === 3); // `key` values are redacted
      expect([op?.status, op?.meta.attempts]).toEqual(['success', 3]);
      const messages = await ts.api('GET', `/logs/operations/${op?.id ?? ''}/messages`);
      expect((messages.body as { data: { message: string }[] }).data.map((m) => m.message)).toEqual([
        expect.stringMatching(/^Attempt 1 got 502; retrying in \d+ ms\.$/),
        expect.stringMatching(/^Attempt 2 got 502; retrying in \d+ ms\.$/),
      ]);
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

    it('retries a refused connection, then answers upstream_unreachable', async () => {
      const ts = get();
      await ts.api('POST', '/integrations', { provider: 'fake-down', unique_key: 'down' });
      await ts.api('POST', '/connections', {
        provider_config_key: 'down',
        connection_id: 'c1',
        credentials: { type: 'API_KEY', apiKey: 'k' },
      });
      const { res, attempts } = await call(ts, '/json', { integration: 'down', headers: { retries: '2' } });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { code: 'upstream_unreachable' } });
      expect(attempts).toBe(3);
    });

    it('answers proxy_timeout when the provider is too slow', async () => {
      const ts = get();
      const { res, attempts } = await call(ts, '/slow?ms=5000');
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('proxy_timeout');
      expect(attempts).toBe(1);
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
  },
  {
    setup: async () => {
      upstream = await startProxyUpstream();
      oauth = await startFakeOAuth();
      return {
        providersFile: proxyProvidersFile(upstream.url, oauth.url, { 'fake-down': 'http://127.0.0.1:1' }),
        proxy: { allowPrivateNetworks: true, backoffBaseMs: 20, maxWaitMs: 5000, timeoutMs: 3000 },
      };
    },
  },
);
