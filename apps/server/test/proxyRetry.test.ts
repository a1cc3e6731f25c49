import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startFakeOAuth, type FakeOAuth } from './fakeOAuth.js';
import { describeEachDatabase, type TestServer } from './harness.js';
import { call, key, seedProxyConnections } from './proxyClient.js';
import {
  proxyProvidersFile,
  startProxyUpstream,
  type ProxyUpstream,
  type SeenRequest,
} from './proxyUpstream.js';

let upstream: ProxyUpstream | undefined;
let oauth: FakeOAuth | undefined;
afterAll(async () => {
  await upstream?.close();
  await oauth?.close();
});

/**
 * The waits the proxy asked for before each retry of the request tagged `tag`, as its activity log tells
 * them ("Attempt n got s; retrying in w ms."): what the engine decided, independent of how busy the machine is.
 */
async function requestedWaits(ts: TestServer, tag: string): Promise<number[]> {
  return vi.waitFor(
    async () => {
      const ops = await ts.api('GET', '/logs/operations?kind=proxy&limit=100');
      const op = (ops.body as { data: { id: string; meta: { url: string } }[] }).data.find((o) =>
        o.meta.url.includes(`tag=${tag}`),
      );
      if (!op) throw new Error(`no operation for ${tag} yet`);
      const messages = await ts.api('GET', `/logs/operations/${op.id}/messages`);
      return (messages.body as { data: { message: string }[] }).data.map(({ message }) => {
        const wait = /^Attempt \d+ got \d+; retrying in (\d+) ms\.$/.exec(message)?.[1];
        if (wait === undefined) throw new Error(`unexpected message: ${message}`);
        return Number(wait);
      });
    },
    { timeout: 5000, interval: 20 },
  );
}

/** The two requests the upstream saw for `k` (the rate-limited one and the retry), and the reset it announced. */
function limitedThenRetried(path: string, k: string, resetOf: (h: Record<string, string>) => number) {
  const hits = upstream!.hits(path).filter((h) => h.url.includes(`key=${k}`));
  expect(hits).toHaveLength(2);
  const [first, retry] = hits as [SeenRequest, SeenRequest];
  return { first, retry, resetAt: resetOf(first.limitHeaders ?? {}) };
}

describeEachDatabase(
  'proxy retries and rate limits',
  (get) => {
    beforeAll(async () => {
      await seedProxyConnections(get());
    });

    it('waits out a GitHub-style rate limit (x-ratelimit-remaining: 0, x-ratelimit-reset in epoch seconds)', async () => {
      const ts = get();
      const k = key();
      const { res, attempts } = await call(ts, `/github-limit?key=${k}&tag=${k}&ahead=2`, {
        headers: { retries: '2' },
      });
      expect(res.status).toBe(200);
      expect(attempts).toBe(2);
      const { first, retry, resetAt } = limitedThenRetried(
        '/github-limit',
        k,
        (h) => Number(h['x-ratelimit-reset']) * 1000,
      );
      // The wait asked for runs until the announced reset (1–2 s ahead), not a 20 ms backoff …
      const [wait, ...more] = await requestedWaits(ts, k);
      expect(more).toEqual([]);
      expect(wait).toBeLessThanOrEqual(resetAt - first.at);
      expect(wait).toBeGreaterThanOrEqual(resetAt - retry.at - 5);
      // … and the retry was not sent before it (timers may fire a millisecond early against the wall clock).
      expect(retry.at).toBeGreaterThanOrEqual(resetAt - 5);
    });

    it.each(['seconds', 'date'])('honours Retry-After as %s', async (form) => {
      const ts = get();
      const k = key();
      const { res, attempts } = await call(ts, `/retry-after?key=${k}&tag=${k}&form=${form}`, {
        headers: { retries: '3' },
      });
      expect(res.status).toBe(200);
      expect(attempts).toBe(2);
      const { first, retry, resetAt } = limitedThenRetried('/retry-after', k, (h) =>
        form === 'seconds' ? NaN : Date.parse(h['retry-after'] ?? ''),
      );
      const waits = await requestedWaits(ts, k);
      if (form === 'seconds') {
        expect(first.limitHeaders).toEqual({ 'retry-after': '1' });
        expect(waits).toEqual([1000]);
        expect(retry.at - first.at).toBeGreaterThanOrEqual(1000 - 5);
      } else {
        // An HTTP date 0.5–1.5 s ahead (whole seconds): wait until then.
        expect(waits).toHaveLength(1);
        expect(waits[0]).toBeLessThanOrEqual(resetAt - first.at);
        expect(waits[0]).toBeGreaterThanOrEqual(resetAt - retry.at - 5);
        expect(retry.at).toBeGreaterThanOrEqual(resetAt - 5);
      }
    });

    it('passes a 429 back at once when the provider asks to wait longer than the maximum wait', async () => {
      const ts = get();
      const k = key();
      const { res, attempts, upstreamError } = await call(ts, `/retry-after?key=${k}&tag=${k}&form=long`, {
        headers: { retries: '5' },
      });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3600');
      expect(upstreamError).toBe('true');
      expect(await res.json()).toEqual({ error: 'slow down' });
      expect(attempts).toBe(1);
      expect(upstream!.hits('/retry-after').filter((h) => h.url.includes(`key=${k}`))).toHaveLength(1);
      // No wait was planned (a wait would also have run into the 4 s request deadline: a 504, not this 429).
      expect(await requestedWaits(ts, k)).toEqual([]);
    });

    it('retries flaky 5xx up to Retries with exponential backoff, then passes the last upstream error through', async () => {
      const ts = get();
      const k1 = key();
      const ok = await call(ts, `/flaky?key=${k1}&tag=${k1}&fail=2`, { headers: { retries: '3' } });
      expect(ok.res.status).toBe(200);
      expect(ok.attempts).toBe(3);
      expect(upstream!.hits('/flaky').filter((h) => h.url.includes(`key=${k1}`))).toHaveLength(3);
      // One logged message per retry, each with the backoff asked for: 20 ms · 2^(n-1), between half and all of it.
      const [first, second, ...more] = await requestedWaits(ts, k1);
      expect(more).toEqual([]);
      expect(first).toBeGreaterThanOrEqual(10);
      expect(first).toBeLessThanOrEqual(20);
      expect(second).toBeGreaterThanOrEqual(20);
      expect(second).toBeLessThanOrEqual(40);
      const ops = await ts.api('GET', '/logs/operations?kind=proxy&limit=100');
      const op = (
        ops.body as { data: { status: string; meta: { url: string; attempts: number } }[] }
      ).data.find((o) => o.meta.url.includes(`tag=${k1}`));
      expect([op?.status, op?.meta.attempts]).toEqual(['success', 3]);
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
      expect(
        (await ts.api('POST', '/integrations', { provider: 'fake-down', unique_key: 'down' })).status,
      ).toBe(200);
      const created = await ts.api('POST', '/connections', {
        provider_config_key: 'down',
        connection_id: 'c1',
        credentials: { type: 'API_KEY', apiKey: 'k' },
      });
      expect(created.status).toBe(201);
      const { res, attempts } = await call(ts, '/json', { integration: 'down', headers: { retries: '2' } });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { code: 'upstream_unreachable' } });
      expect(attempts).toBe(3);
    });

    it('answers proxy_timeout when the provider is too slow', async () => {
      const ts = get();
      const { res, attempts } = await call(ts, '/slow?ms=6000');
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('proxy_timeout');
      expect(attempts).toBe(1);
    });

    it('refreshes once on a 401 and retries with the new token', async () => {
      const ts = get();
      const refreshesBefore = oauth!.calls.length;
      const hitsBefore = upstream!.hits('/protected').length;
      const { res, attempts } = await call(ts, '/protected', { connection: 'stale' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { token: string }).token).toMatch(/^access-\d+$/);
      expect(attempts).toBe(2);
      expect(oauth!.calls.length - refreshesBefore).toBe(1);
      expect(upstream!.hits('/protected').length - hitsBefore).toBe(2);
      // An API key cannot be refreshed: the 401 comes back after one attempt.
      const key401 = await call(ts, '/protected', { connection: 'k1', integration: 'key' });
      expect([key401.res.status, key401.attempts, key401.upstreamError]).toEqual([401, 1, 'true']);
      expect(key401.res.headers.get('www-authenticate')).toBe('Bearer');
    });
  },
  {
    setup: async () => {
      upstream ??= await startProxyUpstream();
      oauth ??= await startFakeOAuth();
      return {
        // Port 1 is privileged and unassigned here: nothing listens, and no test (nor ephemeral port) can take it.
        providersFile: proxyProvidersFile(upstream.url, oauth.url, { 'fake-down': 'http://127.0.0.1:1' }),
        proxy: { allowPrivateNetworks: true, backoffBaseMs: 20, maxWaitMs: 5000, timeoutMs: 4000 },
      };
    },
  },
);
