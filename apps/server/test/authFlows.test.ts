import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type TestServer } from './harness.js';
import { FAKE, fakeProvidersYaml, startFakeProvider } from './fakeProvider.js';

const ORIGIN = 'http://localhost:5173';
const app = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});
let fake: Awaited<ReturnType<typeof startFakeProvider>>;

afterAll(async () => {
  await fake?.close();
});

const setup = async () => {
  fake ??= await startFakeProvider(app.publicKey);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-auth-'));
  const providersFile = join(dir, 'providers.yaml');
  writeFileSync(providersFile, fakeProvidersYaml(fake.url));
  return { providersFile, publicUrl: true };
};

describeEachDatabase(
  'auth flows',
  (get) => {
    let ts: TestServer;
    const session = async (body: Record<string, unknown> = {}): Promise<string> => {
      const r = await ts.api('POST', '/connect/sessions', {
        end_user: { id: 'u1', email: 'u1@example.com' },
        ...body,
      });
      expect(r.status).toBe(201);
      return r.body.data.token as string;
    };
    const createFlow = async (token: string, key: string, extra: Record<string, unknown> = {}) =>
      fetch(`${ts.url}/oauth/flows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ provider_config_key: key, ...extra }),
      });
    /** Runs the popup's navigation with a cookie jar of one cookie: connect → provider → callback URL. */
    const toCallback = async (url: string) => {
      const connect = await fetch(url, { redirect: 'manual' });
      expect(connect.status).toBe(302);
      const setCookie = connect.headers.get('set-cookie') ?? '';
      const cookie = setCookie.split(';')[0]!;
      const atProvider = connect.headers.get('location')!;
      const hop = await fetch(atProvider, { redirect: 'manual' });
      const callbackUrl = hop.headers.get('location')!;
      return { setCookie, cookie, atProvider, callbackUrl };
    };
    const callback = async (url: string, cookie?: string) => {
      const r = await fetch(url, { headers: cookie ? { cookie } : {} });
      return { status: r.status, html: await r.text() };
    };
    const result = async (flow: { flow_id: string; flow_secret: string }) => {
      const r = await fetch(`${ts.url}/oauth/flows/${flow.flow_id}?wait=0`, {
        headers: { authorization: `Bearer ${flow.flow_secret}` },
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { data: Record<string, any> }).data;
    };
    const oauthFlow = async (token: string, key = 'fake-oauth2', extra: Record<string, unknown> = {}) => {
      const r = await createFlow(token, key, extra);
      expect(r.status).toBe(201);
      const flow = ((await r.json()) as { data: { flow_id: string; flow_secret: string; url: string } }).data;
      return { flow, ...(await toCallback(flow.url)) };
    };

    beforeAll(async () => {
      ts = get();
      fake.state.setupUrl = `${ts.url}/app-auth/connect`;
      const integrations: [string, unknown][] = [
        [
          'fake-oauth2',
          {
            type: 'OAUTH2',
            client_id: FAKE.clientId,
            client_secret: FAKE.clientSecret,
            scopes: 'read,write',
          },
        ],
        ['fake-oauth2-basic', { type: 'OAUTH2', client_id: FAKE.clientId, client_secret: FAKE.clientSecret }],
        ['fake-oauth1', { type: 'OAUTH1', client_id: FAKE.clientId, client_secret: FAKE.clientSecret }],
        ['fake-cc', { type: 'OAUTH2', client_id: FAKE.clientId, client_secret: FAKE.clientSecret }],
        [
          'fake-app',
          {
            type: 'APP',
            app_id: FAKE.appId,
            app_link: `${fake.url}/apps/ferry-test`,
            private_key: app.privateKey,
          },
        ],
        ['fake-apikey', undefined],
        ['fake-basic', undefined],
        ['fake-none', undefined],
      ];
      for (const [key, credentials] of integrations) {
        const r = await ts.api('POST', '/integrations', {
          provider: key,
          unique_key: key,
          ...(credentials ? { credentials } : {}),
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
      }
    });

    it('OAuth 2: PKCE S256, scopes, session defaults, Lax state cookie, exact-origin callback, stored connection', async () => {
      const token = await session({
        integrations_config_defaults: {
          'fake-oauth2': { user_scopes: 'extra', authorization_params: { audience: 'api' } },
        },
      });
      const { flow, setCookie, cookie, atProvider, callbackUrl } = await oauthFlow(token);
      const q = Object.fromEntries(new URL(atProvider).searchParams);
      expect(q).toMatchObject({
        response_type: 'code',
        client_id: FAKE.clientId,
        redirect_uri: `${ts.url}/oauth/callback`,
        scope: 'read,write,extra',
        prompt: 'consent',
        audience: 'api',
        code_challenge_method: 'S256',
      });
      expect(q.state!.length).toBeGreaterThanOrEqual(22);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Lax/i);
      expect(await result(flow)).toMatchObject({ status: 'pending', started: true });

      const page = await callback(callbackUrl, cookie);
      expect(page.status).toBe(200);
      expect(page.html).toContain(JSON.stringify(ORIGIN));
      expect(page.html).not.toContain('"*"');
      const tokenRequest = fake.state.tokenRequests.at(-1)!;
      expect(tokenRequest.code_verifier).toBeTruthy();

      const done = await result(flow);
      expect(done).toMatchObject({ status: 'success', provider_config_key: 'fake-oauth2' });
      const conn = await ts.api(
        'GET',
        `/connections/${done.connection_id}?provider_config_key=fake-oauth2&refresh_token=true`,
      );
      expect(conn.status).toBe(200);
      expect(conn.body.credentials).toMatchObject({
        type: 'OAUTH2',
        access_token: expect.stringMatching(/^at-/),
        refresh_token: expect.stringMatching(/^rt-/),
      });
      expect(Date.parse(conn.body.credentials.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);
      expect(conn.body.connection_config).toMatchObject({ 'team.id': 'T42' });
      expect(conn.body.end_user).toMatchObject({ id: 'u1' });

      // The state works once: a replay with the same cookie finds nothing.
      const replay = await callback(callbackUrl, cookie);
      expect(replay.status).toBe(400);
      expect(replay.html).toContain('state_err');
      const list = await ts.api('GET', '/connections?integrationId=fake-oauth2');
      expect(list.body.connections.filter((c: any) => c.connection_id === done.connection_id)).toHaveLength(
        1,
      );
    });

    it('reports a flow whose popup never reached the server as pending and not started', async () => {
      const r = await createFlow(await session(), 'fake-oauth2');
      const flow = ((await r.json()) as { data: { flow_id: string; flow_secret: string } }).data;
      expect(await result(flow)).toMatchObject({ status: 'pending', started: false });
      const wrong = await fetch(`${ts.url}/oauth/flows/${flow.flow_id}?wait=0`, {
        headers: { authorization: 'Bearer ferry_flow_wrong' },
      });
      expect(wrong.status).toBe(404);
    });

    it.each([
      ['missing', undefined],
      ['wrong', 'ferry_oauth_x=forged'],
    ])('rejects a callback with a %s state cookie (state_err)', async (_name, forged) => {
      const { flow, cookie, callbackUrl } = await oauthFlow(await session());
      const wrong = forged ? `${cookie.split('=')[0]}=forged` : undefined;
      const page = await callback(callbackUrl, wrong);
      expect(page.status).toBe(400);
      expect(page.html).toContain('state_err');
      expect(await result(flow)).toMatchObject({ status: 'error', error: { code: 'state_err' } });
    });

    it('turns a tampered code into token_err', async () => {
      const { flow, cookie, callbackUrl } = await oauthFlow(await session());
      const tampered = new URL(callbackUrl);
      tampered.searchParams.set('code', `${tampered.searchParams.get('code')}x`);
      const page = await callback(tampered.toString(), cookie);
      expect(page.status).toBe(400);
      expect(await result(flow)).toMatchObject({ status: 'error', error: { code: 'token_err' } });
    });

    it('turns the provider down into token_err', async () => {
      const { flow, cookie, callbackUrl } = await oauthFlow(await session());
      fake.state.tokenDown = true;
      try {
        await callback(callbackUrl, cookie);
      } finally {
        fake.state.tokenDown = false;
      }
      expect(await result(flow)).toMatchObject({ status: 'error', error: { code: 'token_err' } });
    });

    it('turns error=access_denied into access_denied', async () => {
      fake.state.deny = true;
      let run;
      try {
        run = await oauthFlow(await session());
      } finally {
        fake.state.deny = false;
      }
      const page = await callback(run.callbackUrl, run.cookie);
      expect(page.status).toBe(400);
      expect(page.html).toContain('Access was denied');
      expect(await result(run.flow)).toMatchObject({ status: 'error', error: { code: 'access_denied' } });
    });

    it('refuses an expired session token and an integration outside allowed_integrations', async () => {
      const token = await session({ allowed_integrations: ['fake-apikey'] });
      const notAllowed = await createFlow(token, 'fake-oauth2');
      expect(notAllowed.status).toBe(403);
      expect(((await notAllowed.json()) as any).error.code).toBe('integration_not_allowed');
      const apiKey = await fetch(`${ts.url}/api-auth/basic/fake-basic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'a', password: 'b' }),
      });
      expect(apiKey.status).toBe(403);

      await ts.server.services.store.db
        .updateTable('connect_sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .execute();
      const expired = await createFlow(token, 'fake-apikey');
      const expiredBody = (await expired.json()) as any;
      expect(expired.status, JSON.stringify(expiredBody)).toBe(401);
      expect(expiredBody.error.code).toBe('invalid_connect_session_token');
      const direct = await fetch(`${ts.url}/oauth/connect/fake-oauth2?connect_session_token=${token}`, {
        redirect: 'manual',
      });
      expect(direct.status).toBe(401);
      expect(await direct.text()).toContain('invalid_connect_session_token');
    });

    it('reconnects an existing connection in place', async () => {
      const first = await oauthFlow(await session());
      await callback(first.callbackUrl, first.cookie);
      const { connection_id: id } = await result(first.flow);
      const before = await ts.api('GET', `/connections/${id}?provider_config_key=fake-oauth2`);
      const r = await ts.api('POST', '/connect/sessions/reconnect', {
        connection_id: id,
        integration_id: 'fake-oauth2',
        end_user: { id: 'u1' },
      });
      expect(r.status).toBe(201);
      const again = await oauthFlow(r.body.data.token);
      await callback(again.callbackUrl, again.cookie);
      expect(await result(again.flow)).toMatchObject({ status: 'success', connection_id: id });
      const after = await ts.api('GET', `/connections/${id}?provider_config_key=fake-oauth2`);
      expect(after.body.credentials.access_token).not.toBe(before.body.credentials.access_token);
      expect(after.body.created_at).toBe(before.body.created_at);
    });

    it('starts a flow directly with ?connect_session_token= and with public_key + connection_id', async () => {
      const direct = await toCallback(
        `${ts.url}/oauth/connect/fake-oauth2?connect_session_token=${await session()}`,
      );
      expect((await callback(direct.callbackUrl, direct.cookie)).status).toBe(200);
      const env = await ts.server.services.store.db
        .selectFrom('environments')
        .select('public_key')
        .where('name', '=', 'dev')
        .executeTakeFirstOrThrow();
      const byKey = await toCallback(
        `${ts.url}/oauth/connect/fake-oauth2?public_key=${env.public_key}&connection_id=pk-conn`,
      );
      expect((await callback(byKey.callbackUrl, byKey.cookie)).status).toBe(200);
      expect((await ts.api('GET', '/connections/pk-conn?provider_config_key=fake-oauth2')).status).toBe(200);
    });

    it('OAuth 2 with HTTP Basic client auth, a JSON token request, token_params and PKCE disabled', async () => {
      const run = await oauthFlow(await session(), 'fake-oauth2-basic');
      const q = Object.fromEntries(new URL(run.atProvider).searchParams);
      expect(q.code_challenge).toBeUndefined();
      expect((await callback(run.callbackUrl, run.cookie)).status).toBe(200);
      const body = fake.state.tokenRequests.at(-1)!;
      const meta = fake.state.tokenRequestMeta.at(-1)!;
      expect(meta.authorization).toMatch(/^Basic /);
      expect(meta.contentType).toMatch(/^application\/json/);
      expect(body).toMatchObject({ grant_type: 'authorization_code', audience: 'https://api.example.com' });
      expect(body.client_secret).toBeUndefined();
      expect(body.code_verifier).toBeUndefined();
      expect(await result(run.flow)).toMatchObject({ status: 'success' });
    });

    it('OAuth 1.0a: signed request token, authorize, signed access token', async () => {
      const run = await oauthFlow(await session(), 'fake-oauth1');
      const page = await callback(run.callbackUrl, run.cookie);
      expect(page.status, page.html).toBe(200);
      const { connection_id: id } = await result(run.flow);
      const conn = await ts.api('GET', `/connections/${id}?provider_config_key=fake-oauth1`);
      expect(conn.body.credentials).toMatchObject({
        type: 'OAUTH1',
        oauth_token: expect.stringMatching(/^at1-/),
        oauth_token_secret: expect.stringMatching(/^ats1-/),
      });
    });

    it('GitHub App: install, JWT-signed installation token, re-minted on force_refresh', async () => {
      const run = await oauthFlow(await session(), 'fake-app');
      expect(new URL(run.atProvider).pathname).toBe('/apps/ferry-test/installations/new');
      const page = await callback(run.callbackUrl, run.cookie);
      expect(page.status, page.html).toBe(200);
      const { connection_id: id } = await result(run.flow);
      const conn = await ts.api('GET', `/connections/${id}?provider_config_key=fake-app`);
      expect(conn.body.credentials).toMatchObject({
        type: 'APP',
        access_token: expect.stringMatching(/^ghs_/),
        installation_id: FAKE.installationId,
      });
      expect(conn.body.connection_config).toMatchObject({
        installation_id: FAKE.installationId,
        setup_action: 'install',
      });
      const forced = await ts.api(
        'GET',
        `/connections/${id}?provider_config_key=fake-app&force_refresh=true`,
      );
      expect(forced.body.credentials.access_token).not.toBe(conn.body.credentials.access_token);
    });

    const post = (path: string, token: string, body: unknown) =>
      fetch(`${ts.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it.each([
      ['/api-auth/api-key/fake-apikey', { apiKey: FAKE.apiKey }, { apiKey: 'bad' }, 'API_KEY'],
      [
        '/api-auth/basic/fake-basic',
        { username: FAKE.username, password: FAKE.password },
        { username: 'x', password: 'y' },
        'BASIC',
      ],
    ])('%s verifies the credentials before saving', async (path, good, bad, type) => {
      const token = await session();
      const refused = await post(path, token, bad);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as any).error.code).toBe('connection_test_failed');
      const ok = await post(path, token, good);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { providerConfigKey: string; connectionId: string };
      const conn = await ts.api(
        'GET',
        `/connections/${body.connectionId}?provider_config_key=${body.providerConfigKey}`,
      );
      expect(conn.body.credentials).toMatchObject({ type, ...good });
      expect(conn.body.end_user).toMatchObject({ id: 'u1' });
    });

    it('NONE and OAUTH2_CC (client credentials, re-minted on force_refresh)', async () => {
      const token = await session();
      const none = await post('/auth/unauthenticated/fake-none', token, {});
      expect(none.status).toBe(200);
      expect(await post('/auth/unauthenticated/fake-apikey', token, {}).then((r) => r.status)).toBe(400);
      const cc = await post('/oauth2/auth/fake-cc', token, {});
      expect(cc.status).toBe(200);
      const { connectionId } = (await cc.json()) as { connectionId: string };
      const conn = await ts.api('GET', `/connections/${connectionId}?provider_config_key=fake-cc`);
      expect(conn.body.credentials).toMatchObject({
        type: 'OAUTH2_CC',
        token: expect.stringMatching(/^cc-/),
      });
      expect(conn.body.credentials.expires_at).toBeTruthy();
      const forced = await ts.api(
        'GET',
        `/connections/${connectionId}?provider_config_key=fake-cc&force_refresh=true`,
      );
      expect(forced.body.credentials.token).not.toBe(conn.body.credentials.token);
    });

    it('the published @nangohq/frontend 0.71.10 creates API-key, basic and no-auth connections (wire compatible)', async () => {
      const { default: Nango } = await import('@nangohq/frontend');
      const nango = new Nango({ host: ts.url, connectSessionToken: await session() });
      const apiKey = await nango.auth('fake-apikey', { credentials: { apiKey: FAKE.apiKey } });
      expect(apiKey).toMatchObject({ providerConfigKey: 'fake-apikey', connectionId: expect.any(String) });
      const basic = await nango.auth('fake-basic', {
        credentials: { username: FAKE.username, password: FAKE.password },
      });
      expect(basic).toMatchObject({ providerConfigKey: 'fake-basic' });
      expect(await nango.create('fake-none')).toMatchObject({ providerConfigKey: 'fake-none' });
      const refused = await nango
        .auth('fake-apikey', { credentials: { apiKey: 'bad' } })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ type: 'connection_test_failed' });
    });

    it('records auth operations in the activity log', async () => {
      const ops = await ts.api('GET', '/logs/operations?kind=auth');
      expect(ops.status).toBe(200);
      expect(JSON.stringify(ops.body)).toContain('connection.creation');
      expect(JSON.stringify(ops.body)).toContain('connection.override');
      expect(JSON.stringify(ops.body)).toContain('connection.failure');
      const events = await ts.server.services.store.db
        .selectFrom('auth_events')
        .select(['operation', 'success'])
        .execute();
      expect(new Set(events.map((e) => `${e.operation}:${e.success}`))).toEqual(
        new Set(['creation:1', 'override:1', 'failure:0']),
      );
    });
  },
  { setup },
);
