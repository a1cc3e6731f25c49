import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupFunction } from '../src/proxy/settings.js';
import { FAKE, startFakeProvider } from './fakeProvider.js';
import { startFakeOAuth, type FakeOAuth } from './fakeOAuth.js';
import { databases, freePort, startTestServer, type TestServer } from './harness.js';

// Every request the server makes on a user's behalf (not only the proxy) goes through one guard. The
// providers below put a connection_config value (`host`) into their verification, token and OAuth 1 URLs,
// as real ones do with a subdomain: a user must not be able to point them at the server's own network, nor
// tell from the error whether a port there is open.

const ORIGIN = 'http://localhost:5173';
const app = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});

// A name that resolves to loopback, to check the guard after DNS as well as for IP literals.
const lookup: LookupFunction = async (hostname) => {
  if (hostname === 'internal.fake.test') return [{ address: '127.0.0.1', family: 4 }];
  throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};
const HOSTS = ['127.0.0.1', 'internal.fake.test'];

let fake: Awaited<ReturnType<typeof startFakeProvider>>;
let oauth: FakeOAuth;
let providersFile: string;

function providersYaml(fakeUrl: string, oauthUrl: string, ports: { open: number; closed: number }): string {
  const host = '$' + '{connectionConfig.host}';
  const out: string[] = [];
  for (const [which, port] of Object.entries(ports)) {
    const target = `http://${host}:${port}`;
    out.push(
      `ssrf-apikey-${which}:`,
      '  display_name: API key, host from connection config',
      '  docs: https://example.com/docs',
      '  auth_mode: API_KEY',
      '  proxy:',
      `    base_url: ${target}`,
      "    headers: { authorization: 'Bearer $" + "{apiKey}' }",
      '    verification: { method: GET, endpoints: [/me] }',
      `ssrf-oauth2-${which}:`,
      '  display_name: OAuth 2, token URL host from connection config',
      '  docs: https://example.com/docs',
      '  auth_mode: OAUTH2',
      `  authorization_url: ${fakeUrl}/authorize`,
      `  token_url: ${target}/token`,
      `ssrf-oauth1-${which}:`,
      '  display_name: OAuth 1, request-token URL host from connection config',
      '  docs: https://example.com/docs',
      '  auth_mode: OAUTH1',
      `  request_url: ${target}/oauth1/request_token`,
      `  authorization_url: ${fakeUrl}/oauth1/authorize`,
      `  token_url: ${fakeUrl}/oauth1/access_token`,
      `ssrf-refresh-${which}:`,
      '  display_name: OAuth 2, token URL on 127.0.0.1',
      '  docs: https://example.com/docs',
      '  auth_mode: OAUTH2',
      `  authorization_url: ${oauthUrl}/authorize`,
      `  token_url: http://127.0.0.1:${which === 'open' ? new URL(oauthUrl).port : port}/token`,
    );
  }
  return out.join('\n') + '\n';
}

beforeAll(async () => {
  fake = await startFakeProvider(app.publicKey);
  oauth = await startFakeOAuth();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-outbound-'));
  providersFile = join(dir, 'providers.yaml');
  // `closed`: a port that was free a moment ago, so nothing answers there.
  const ports = { open: Number(new URL(fake.url).port), closed: await freePort() };
  writeFileSync(providersFile, providersYaml(fake.url, oauth.url, ports));
});
afterAll(async () => {
  await fake?.close();
  await oauth?.close();
});

type Server = TestServer & { stop(): Promise<void> };

for (const kind of databases) {
  describe(`one SSRF guard for every outbound request [${kind}]`, () => {
    // `strict`: the default (no private address); `allowed`: FERRY_PROXY_ALLOW_PRIVATE_NETWORKS=127.0.0.1.
    let strict: Server;
    let allowed: Server;

    beforeAll(async () => {
      strict = await startTestServer(kind, {
        providersFile,
        publicUrl: true,
        proxy: { allowPrivateNetworks: false, lookup },
      });
      allowed = await startTestServer(kind, {
        providersFile,
        publicUrl: true,
        proxy: { allowPrivateNetworks: ['127.0.0.1'], lookup },
      });
      for (const ts of [strict, allowed]) {
        for (const which of ['open', 'closed']) {
          for (const [key, credentials] of [
            [`ssrf-apikey-${which}`, undefined],
            [
              `ssrf-oauth2-${which}`,
              { type: 'OAUTH2', client_id: FAKE.clientId, client_secret: FAKE.clientSecret },
            ],
            [
              `ssrf-oauth1-${which}`,
              { type: 'OAUTH1', client_id: FAKE.clientId, client_secret: FAKE.clientSecret },
            ],
            [`ssrf-refresh-${which}`, { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret' }],
          ] as const) {
            const r = await ts.api('POST', '/integrations', {
              provider: key,
              unique_key: key,
              ...(credentials ? { credentials } : {}),
            });
            expect(r.status, JSON.stringify(r.body)).toBe(200);
          }
        }
      }
    });
    afterAll(async () => {
      const violations = [...(strict?.violations ?? []), ...(allowed?.violations ?? [])];
      await strict?.stop();
      await allowed?.stop();
      expect(violations).toEqual([]);
    });

    const session = async (ts: TestServer): Promise<string> => {
      const r = await ts.api('POST', '/connect/sessions', { end_user: { id: 'u1' } });
      expect(r.status).toBe(201);
      return r.body.data.token as string;
    };
    /** Creates a popup flow with `params` and opens its connect URL (no redirects followed). */
    const startFlow = async (ts: TestServer, key: string, params: Record<string, unknown>) => {
      const r = await fetch(`${ts.url}/oauth/flows`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await session(ts)}`,
          'content-type': 'application/json',
          origin: ORIGIN,
        },
        body: JSON.stringify({ provider_config_key: key, params }),
      });
      expect(r.status).toBe(201);
      const flow = ((await r.json()) as { data: { flow_id: string; flow_secret: string; url: string } }).data;
      const connect = await fetch(flow.url, { redirect: 'manual' });
      return { flow, connect };
    };
    const result = async (ts: TestServer, flow: { flow_id: string; flow_secret: string }) => {
      const r = await fetch(`${ts.url}/oauth/flows/${flow.flow_id}?wait=0`, {
        headers: { authorization: `Bearer ${flow.flow_secret}` },
      });
      return ((await r.json()) as { data: Record<string, any> }).data;
    };

    describe('API-key verification', () => {
      const verify = async (ts: TestServer, which: string, host: string) => {
        const r = await fetch(`${ts.url}/api-auth/api-key/ssrf-apikey-${which}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await session(ts)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ apiKey: FAKE.apiKey, connection_config: { host } }),
        });
        return { status: r.status, body: (await r.json()) as Record<string, any> };
      };

      it.each(HOSTS)(
        'refuses %s without FERRY_PROXY_ALLOW_PRIVATE_NETWORKS, open port or not, with the error of a closed port',
        async (host) => {
          const before = fake.state.verifications.length;
          const blockedOpen = await verify(strict, 'open', host);
          const blockedClosed = await verify(strict, 'closed', host);
          const refused = await verify(allowed, 'closed', host);
          expect(fake.state.verifications.length).toBe(before);
          expect(blockedOpen.status).toBe(400);
          expect(blockedOpen.body.error.code).toBe('connection_test_failed');
          expect(blockedOpen.body.error.message).not.toMatch(/ECONN|refus|private|reserved|blocked/i);
          expect(blockedClosed).toEqual(blockedOpen);
          expect(refused).toEqual(blockedOpen);
        },
      );

      it.each(HOSTS)('reaches %s when FERRY_PROXY_ALLOW_PRIVATE_NETWORKS allows it', async (host) => {
        const before = fake.state.verifications.length;
        const ok = await verify(allowed, 'open', host);
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(fake.state.verifications.length).toBe(before + 1);
      });
    });

    describe('OAuth 2 token exchange', () => {
      const exchange = async (ts: TestServer, which: string, host: string) => {
        const { flow, connect } = await startFlow(ts, `ssrf-oauth2-${which}`, { host });
        expect(connect.status).toBe(302);
        const cookie = (connect.headers.get('set-cookie') ?? '').split(';')[0]!;
        const atProvider = await fetch(connect.headers.get('location')!, { redirect: 'manual' });
        const page = await fetch(atProvider.headers.get('location')!, { headers: { cookie } });
        await page.text();
        return { status: page.status, result: await result(ts, flow) };
      };

      it.each(HOSTS)(
        'refuses a token URL on %s without FERRY_PROXY_ALLOW_PRIVATE_NETWORKS, like a closed port',
        async (host) => {
          const before = fake.state.tokenRequests.length;
          const blockedOpen = await exchange(strict, 'open', host);
          const blockedClosed = await exchange(strict, 'closed', host);
          const refused = await exchange(allowed, 'closed', host);
          expect(fake.state.tokenRequests.length).toBe(before);
          expect(blockedOpen.result).toMatchObject({ status: 'error', error: { code: 'token_err' } });
          expect(blockedOpen.result.error.message).not.toMatch(/ECONN|refus|private|reserved|blocked/i);
          expect([blockedClosed.status, blockedClosed.result.error]).toEqual([
            blockedOpen.status,
            blockedOpen.result.error,
          ]);
          expect([refused.status, refused.result.error]).toEqual([
            blockedOpen.status,
            blockedOpen.result.error,
          ]);
        },
      );

      it.each(HOSTS)(
        'exchanges the code at %s when FERRY_PROXY_ALLOW_PRIVATE_NETWORKS allows it',
        async (host) => {
          const ok = await exchange(allowed, 'open', host);
          expect([ok.status, ok.result.status]).toEqual([200, 'success']);
        },
      );
    });

    describe('OAuth 1 request token', () => {
      it.each(HOSTS)(
        'refuses a request-token URL on %s without FERRY_PROXY_ALLOW_PRIVATE_NETWORKS, like a closed port',
        async (host) => {
          const blockedOpen = await startFlow(strict, 'ssrf-oauth1-open', { host });
          const blockedClosed = await startFlow(strict, 'ssrf-oauth1-closed', { host });
          const refused = await startFlow(allowed, 'ssrf-oauth1-closed', { host });
          const errors = [];
          for (const [ts, r] of [
            [strict, blockedOpen],
            [strict, blockedClosed],
            [allowed, refused],
          ] as const) {
            await r.connect.text();
            errors.push([r.connect.status, (await result(ts, r.flow)).error]);
          }
          expect(errors[0]).toEqual([
            424,
            { code: 'token_err', message: 'The provider refused: the OAuth 1 endpoint could not be reached' },
          ]);
          expect(errors[1]).toEqual(errors[0]);
          expect(errors[2]).toEqual(errors[0]);
        },
      );

      it('gets a request token when FERRY_PROXY_ALLOW_PRIVATE_NETWORKS allows it', async () => {
        const { connect } = await startFlow(allowed, 'ssrf-oauth1-open', { host: '127.0.0.1' });
        expect(connect.status).toBe(302);
        expect(connect.headers.get('location')).toMatch(/\/oauth1\/authorize\?oauth_token=rq-/);
      });
    });

    describe('token refresh', () => {
      let n = 0;
      const refresh = async (ts: TestServer, which: string) => {
        const id = `refresh-${which}-${++n}`;
        const created = await ts.api('POST', '/connections', {
          provider_config_key: `ssrf-refresh-${which}`,
          connection_id: id,
          credentials: {
            type: 'OAUTH2',
            access_token: 'old',
            refresh_token: 'rt',
            expires_at: new Date(Date.now() - 60_000).toISOString(),
          },
        });
        expect(created.status).toBe(201);
        return ts.api('GET', `/connections/${id}?provider_config_key=ssrf-refresh-${which}`);
      };
      const visible = (r: { status: number; body: any }) => [
        r.status,
        r.body.error?.code,
        r.body.error?.message,
      ];

      it('refuses a token URL on 127.0.0.1 without FERRY_PROXY_ALLOW_PRIVATE_NETWORKS, like a closed port', async () => {
        const before = oauth.calls.length;
        const blockedOpen = await refresh(strict, 'open');
        const blockedClosed = await refresh(strict, 'closed');
        const refused = await refresh(allowed, 'closed');
        expect(oauth.calls.length).toBe(before);
        expect(visible(blockedOpen)).toEqual([
          blockedOpen.status,
          'invalid_credentials',
          'Refreshing the credentials failed: the token endpoint could not be reached',
        ]);
        expect(visible(blockedClosed)).toEqual(visible(blockedOpen));
        expect(visible(refused)).toEqual(visible(blockedOpen));
      });

      it('refreshes at 127.0.0.1 when FERRY_PROXY_ALLOW_PRIVATE_NETWORKS allows it', async () => {
        const ok = await refresh(allowed, 'open');
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(ok.body.credentials.access_token).toMatch(/^access-/);
      });
    });
  });
}
