import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupFunction } from '../src/proxy/settings.js';
import { startTestServer, type TestServer } from './harness.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

// Test names resolve through this table: a public-looking name pointing at the fake, and private ones.
const names: Record<string, string> = {
  'api.fake.test': '127.0.0.1',
  'intranet.fake.test': '10.1.2.3',
  'private.fake.test': '192.168.1.10',
};
const lookup: LookupFunction = async (hostname) => {
  const address = names[hostname];
  if (!address) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return [{ address, family: 4 }];
};

let upstream: ProxyUpstream;
const servers: (TestServer & { stop(): Promise<void> })[] = [];

async function start(allowPrivateNetworks: boolean | string[]): Promise<TestServer> {
  const port = upstream.port;
  const ts = await startTestServer('sqlite', {
    providersFile: proxyProvidersFile(upstream.url, 'http://127.0.0.1:9', {
      'fake-named': `http://api.fake.test:${port}`,
      'fake-private': `http://private.fake.test:${port}`,
    }),
    proxy: { allowPrivateNetworks, lookup, backoffBaseMs: 10 },
  });
  servers.push(ts);
  for (const provider of ['fake-api', 'fake-named', 'fake-private']) {
    await ts.api('POST', '/integrations', {
      provider,
      unique_key: provider,
      ...(provider === 'fake-api'
        ? { credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' } }
        : {}),
    });
    const credentials =
      provider === 'fake-api'
        ? { type: 'OAUTH2', access_token: 'tok' }
        : { type: 'API_KEY', apiKey: 'key-1' };
    const res = await ts.api('POST', '/connections', {
      provider_config_key: provider,
      connection_id: 'c1',
      credentials,
    });
    expect(res.status).toBe(201);
  }
  return ts;
}

async function call(ts: TestServer, integration: string, path: string) {
  const res = await fetch(`${ts.url}/proxy${path}`, {
    headers: {
      authorization: `Bearer ${ts.secretKey}`,
      'connection-id': 'c1',
      'provider-config-key': integration,
      retries: '3',
    },
  });
  const text = await res.text();
  return {
    status: res.status,
    attempts: Number(res.headers.get('x-ferry-proxy-attempts')),
    body: text ? (JSON.parse(text) as Record<string, any>) : undefined,
  };
}

beforeAll(async () => {
  upstream = await startProxyUpstream();
});
afterAll(async () => {
  for (const s of servers) {
    const violations = s.violations;
    await s.stop();
    expect(violations).toEqual([]);
  }
  await upstream.close();
});

describe('SSRF guard, allowing only 127.0.0.1', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await start(['127.0.0.1']);
  });

  it('reaches an allowed address, by IP and through DNS', async () => {
    expect((await call(ts, 'fake-api', '/json')).status).toBe(200);
    expect((await call(ts, 'fake-named', '/json')).status).toBe(200);
  });

  it('refuses a redirect to a private address, by IP, through DNS and to the metadata service, without retrying', async () => {
    for (const to of [
      `http://127.0.0.2:${upstream.port}/json`,
      `http://intranet.fake.test:${upstream.port}/json`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${upstream.port}/json`,
    ]) {
      const before = upstream.seen.length;
      const r = await call(ts, 'fake-api', `/redirect?to=${encodeURIComponent(to)}`);
      expect([to, r.status, r.body?.error?.code, r.attempts]).toEqual([to, 403, 'forbidden_url', 1]);
      expect(upstream.seen.length - before).toBe(1); // the redirect itself, nothing after it
    }
  });

  it('refuses a base URL that resolves to a private address before connecting', async () => {
    const before = upstream.seen.length;
    const r = await call(ts, 'fake-private', '/json');
    expect([r.status, r.body?.error?.code]).toEqual([403, 'forbidden_url']);
    expect(upstream.seen.length).toBe(before);
  });

  it('follows allowed redirects, dropping the auth when the origin changes', async () => {
    const same = await call(ts, 'fake-api', `/redirect?to=${encodeURIComponent('/echo')}`);
    expect([same.status, same.attempts, same.body?.headers?.authorization]).toEqual([200, 1, 'Bearer tok']);
    const cross = await call(
      ts,
      'fake-api',
      `/redirect?to=${encodeURIComponent(`http://api.fake.test:${upstream.port}/echo`)}`,
    );
    expect([cross.status, cross.body?.headers?.authorization]).toEqual([200, undefined]);
  });
});

describe('SSRF guard, default settings', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await start(false);
  });

  it('refuses loopback by IP and through DNS, without any upstream request', async () => {
    const before = upstream.seen.length;
    for (const integration of ['fake-api', 'fake-named']) {
      const r = await call(ts, integration, '/json');
      expect([integration, r.status, r.body?.error?.code]).toEqual([integration, 403, 'forbidden_url']);
    }
    expect(upstream.seen.length).toBe(before);
  });
});
