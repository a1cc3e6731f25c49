import { expect, it } from 'vitest';
import { describeEachDatabase, startTestServer } from './harness.js';

const ORIGIN = 'https://app.example.com';

describeEachDatabase('access: public_key and CORS', (get) => {
  const publicKey = async (): Promise<string> => {
    const env = await get()
      .server.services.store.db.selectFrom('environments')
      .select('public_key')
      .where('name', '=', 'dev')
      .executeTakeFirstOrThrow();
    return env.public_key;
  };
  const session = async (): Promise<string> => {
    const r = await get().api('POST', '/connect/sessions', { end_user: { id: 'u1' } });
    expect(r.status).toBe(201);
    return r.body.data.token as string;
  };
  const setup = async (): Promise<void> => {
    const { api } = get();
    for (const body of [
      {
        provider: 'github',
        unique_key: 'gh',
        credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'cs' },
      },
      { provider: 'unauthenticated', unique_key: 'open' },
    ]) {
      const r = await api('POST', '/integrations', body);
      expect([200, 409]).toContain(r.status);
    }
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(get().url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
      body: JSON.stringify(body),
    });

  it('POST /oauth/flows needs a connect session token: a public key is refused', async () => {
    await setup();
    const refused = await post(`/oauth/flows?public_key=${await publicKey()}`, { provider_config_key: 'gh' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('missing_connect_session_token');
    expect(body.error.message).toMatch(/public_key is deprecated/);

    const ok = await post(
      '/oauth/flows',
      { provider_config_key: 'gh' },
      { authorization: `Bearer ${await session()}` },
    );
    expect(ok.status).toBe(201);
  });

  it('still accepts public_key where Nango does: the credential forms and GET /oauth/connect', async () => {
    await setup();
    const key = await publicKey();
    const created = await post(`/auth/unauthenticated/open?public_key=${key}&connection_id=pk-open`, {});
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ providerConfigKey: 'open', connectionId: 'pk-open' });
    const connect = await fetch(`${get().url}/oauth/connect/gh?public_key=${key}&connection_id=pk-gh`, {
      redirect: 'manual',
    });
    expect(connect.status).toBe(302);
    expect(connect.headers.get('location')).toMatch(/^https:\/\/github\.com\/login\/oauth\/authorize\?/);
  });

  const preflight = (path: string, method: string, requestHeaders = 'authorization,content-type') =>
    fetch(get().url + path, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': method,
        'access-control-request-headers': requestHeaders,
      },
    });

  it.each([
    { path: '/oauth/flows', method: 'POST', headers: 'authorization, content-type' },
    { path: '/oauth/flows/abc123', method: 'GET', headers: 'authorization' },
    { path: '/api-auth/api-key/stripe', method: 'POST', headers: 'authorization, content-type' },
    { path: '/api-auth/basic/jira', method: 'POST', headers: 'authorization, content-type' },
    { path: '/oauth2/auth/cc', method: 'POST', headers: 'authorization, content-type' },
    { path: '/auth/unauthenticated/open', method: 'POST', headers: 'authorization, content-type' },
  ])('answers the preflight of the browser SDK route $method $path', async ({ path, method, headers }) => {
    const res = await preflight(path, method);
    expect(res.status).toBe(204);
    expect({
      origin: res.headers.get('access-control-allow-origin'),
      methods: res.headers.get('access-control-allow-methods'),
      headers: res.headers.get('access-control-allow-headers'),
      maxAge: res.headers.get('access-control-max-age'),
    }).toEqual({ origin: '*', methods: method, headers, maxAge: '600' });
  });

  it.each([
    { path: '/connections', method: 'GET' },
    { path: '/connections/c1', method: 'GET' },
    { path: '/integrations', method: 'POST' },
    { path: '/connect/sessions', method: 'POST' },
    { path: '/providers', method: 'GET' },
    { path: '/logs', method: 'GET' },
    { path: '/oauth/flows', method: 'DELETE' },
    { path: '/oauth/connect/gh', method: 'GET' },
    { path: '/nowhere', method: 'GET' },
  ])('refuses OPTIONS on $path ($method) without auth, in the error envelope', async ({ path, method }) => {
    for (const res of [await preflight(path, method), await fetch(get().url + path, { method: 'OPTIONS' })]) {
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('allow')).toBeNull();
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_found');
      expect(typeof body.error.message).toBe('string');
    }
  });

  it('sends Access-Control-Allow-Origin on the SDK routes only', async () => {
    const flow = await fetch(`${get().url}/oauth/flows/nope?wait=0`, {
      headers: { authorization: 'Bearer ferry_flow_x', origin: ORIGIN },
    });
    expect(flow.status).toBe(404);
    expect(flow.headers.get('access-control-allow-origin')).toBe('*');
    const connections = await get().api('GET', '/connections', undefined, { origin: ORIGIN });
    expect(connections.status).toBe(200);
    expect(connections.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// OPTIONS through the proxy is forwarded upstream when authenticated (openapi.yaml says so in prose, without an
// operation), so this runs on its own server, outside the contract check of describeEachDatabase.
it('refuses OPTIONS on the proxy (outside express) without a secret key', async () => {
  const ts = await startTestServer('sqlite');
  try {
    const res = await fetch(`${ts.url}/proxy/user`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('missing_auth_header');
  } finally {
    await ts.stop();
  }
});
