import { Ferry, FerryError } from '@ferry/node';
import { Nango } from '@nangohq/node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

describeEachDatabase('@ferry/node against the real server', (get) => {
  let ferry: Ferry;
  beforeAll(() => {
    ferry = new Ferry({ host: get().url, secretKey: get().secretKey });
  });
  afterAll(async () => ferry.close());

  it('drives integrations, connections, metadata, sessions and logs', async () => {
    expect(await ferry.health()).toEqual({ status: 'ok' });
    const provider = await ferry.getProvider('github');
    expect(provider.data.auth_mode).toBe('OAUTH2');
    await ferry.createIntegration({
      provider: 'github',
      unique_key: 'gh',
      credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'sec' },
    });
    expect((await ferry.getIntegration('gh', { include: ['credentials'] })).data.credentials).toMatchObject({
      client_secret: 'sec',
    });
    await ferry.updateIntegration('gh', { display_name: 'GH' });
    expect((await ferry.listIntegrations()).data.map((i) => i.display_name)).toEqual(['GH']);

    await ferry.createConnection({
      provider_config_key: 'gh',
      connection_id: 'c1',
      credentials: { type: 'OAUTH2', access_token: 'at', refresh_token: 'rt' },
    });
    expect(await ferry.getToken('gh', 'c1')).toBe('at');
    const full = await ferry.getConnection('gh', 'c1', { refreshToken: true });
    expect(full.credentials).toMatchObject({ refresh_token: 'rt' });
    await ferry.setMetadata('gh', 'c1', { a: 1 });
    await ferry.updateMetadata('gh', 'c1', { b: 2 });
    expect(await ferry.getMetadata('gh', 'c1')).toEqual({ a: 1, b: 2 });
    await ferry.patchConnection('gh', 'c1', { tags: { x: 'y' } });
    expect((await ferry.listConnections({ integrationId: 'gh' })).connections[0]?.tags).toEqual({ x: 'y' });

    const session = await ferry.createConnectSession({ end_user: { id: 'u' }, allowed_integrations: ['gh'] });
    expect((await ferry.getConnectSession(session.data.token)).data.allowed_integrations).toEqual(['gh']);
    await ferry.deleteConnectSession(session.data.token);

    const ops = await ferry.listOperations({ kind: 'auth' });
    expect(ops.data[0]?.name).toBe('connection.import');
    await ferry.deleteConnection('gh', 'c1');
    await ferry.deleteIntegration('gh');
  });

  it('throws FerryError with the server code', async () => {
    const err = await ferry.getConnection('gh', 'missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect(err).toMatchObject({ code: 'unknown_connection', status: 404 });
    const bad = new Ferry({ host: get().url, secretKey: '00000000-0000-4000-8000-000000000000' });
    await expect(bad.listIntegrations()).rejects.toMatchObject({ code: 'unknown_account', status: 401 });
    await bad.close();
  });
});

describeEachDatabase('@nangohq/node@0.71.10 against the real server, unmodified', (get) => {
  let nango: Nango;
  beforeAll(() => {
    nango = new Nango({ host: get().url, secretKey: get().secretKey });
  });

  it('runs the everyday calls', async () => {
    const created = await nango.createIntegration({
      provider: 'github',
      unique_key: 'github',
      credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret', scopes: 'repo' },
    });
    expect(created.data.unique_key).toBe('github');
    const listed = await nango.listIntegrations();
    expect(listed.configs.map((c) => c.unique_key)).toEqual(['github']);
    const one = await nango.getIntegration({ uniqueKey: 'github' }, { include: ['credentials'] });
    expect(one.data.credentials).toMatchObject({ client_id: 'id', client_secret: 'secret' });

    // import a connection over REST, as Nango users do (the SDK has no import helper)
    const res = await fetch(`${get().url}/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${get().secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        provider_config_key: 'github',
        connection_id: 'conn-1',
        credentials: { type: 'OAUTH2', access_token: 'ghu_abc', refresh_token: 'ghr_def' },
      }),
    });
    expect(res.status).toBe(201);

    const conn = await nango.getConnection('github', 'conn-1');
    expect(conn.connection_id).toBe('conn-1');
    expect(conn.credentials).toMatchObject({ type: 'OAUTH2', access_token: 'ghu_abc' });
    expect((conn.credentials as { refresh_token?: string }).refresh_token).toBeUndefined();
    const withRefresh = await nango.getConnection('github', 'conn-1', false, true);
    expect((withRefresh.credentials as { refresh_token?: string }).refresh_token).toBe('ghr_def');
    expect(await nango.getToken('github', 'conn-1')).toBe('ghu_abc');

    const list = await nango.listConnections();
    expect(list.connections.map((c) => c.connection_id)).toEqual(['conn-1']);
    const filtered = await nango.listConnections({ integrationId: 'github', limit: 10 });
    expect(filtered.connections).toHaveLength(1);

    await nango.setMetadata('github', 'conn-1', { plan: 'pro', seats: 3 });
    await nango.updateMetadata('github', 'conn-1', { seats: 5 });
    expect(await nango.getMetadata('github', 'conn-1')).toEqual({ plan: 'pro', seats: 5 });

    const session = await nango.createConnectSession({
      end_user: { id: 'user-42', email: 'u42@example.com', display_name: 'U 42' },
      allowed_integrations: ['github'],
    });
    expect(session.data.token).toMatch(/_[0-9a-f]{64}$/);
    expect(Date.parse(session.data.expires_at)).toBeGreaterThan(Date.now());

    const deleted = await nango.deleteConnection('github', 'conn-1');
    expect(deleted.status).toBe(200);
    expect(deleted.data).toEqual({ success: true });
    await expect(nango.getConnection('github', 'conn-1')).rejects.toMatchObject({
      response: { status: 404, data: { error: { code: 'unknown_connection' } } },
    });
  });
});
