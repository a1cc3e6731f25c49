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

  it('lists and prunes records', async () => {
    await ferry.createIntegration({ provider: 'github', unique_key: 'rec' });
    await ferry.createConnection({
      provider_config_key: 'rec',
      connection_id: 'rc',
      credentials: { type: 'OAUTH2', access_token: 'at' },
    });
    const svc = get().server.services.records;
    const env = get().server.services.environments.cachedBySecretKey(get().secretKey)!;
    const ref = await svc.connection(env.id, 'rec', 'rc');
    await svc.save(await svc.feed(ref, 'Item', true), 'Item', [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    const base = { providerConfigKey: 'rec', connectionId: 'rc', model: 'Item' };
    const page = await ferry.listRecords<{ name: string }>({ ...base, limit: 1 });
    expect(page.records[0]).toMatchObject({ id: '1', name: 'a', _nango_metadata: { last_action: 'ADDED' } });
    const next = await ferry.listRecords({ ...base, cursor: page.next_cursor });
    expect(next).toMatchObject({ records: [{ id: '2' }], next_cursor: null });
    expect((await ferry.listRecords({ ...base, ids: ['2'], filter: 'added' })).records).toHaveLength(1);
    const until = page.records[0]!._nango_metadata.cursor;
    expect(await ferry.pruneRecords({ ...base, untilCursor: until })).toEqual({ count: 1, has_more: false });
    await expect(ferry.listRecords({ ...base, cursor: 'nope' })).rejects.toMatchObject({
      code: 'invalid_cursor',
      status: 400,
    });
    await ferry.deleteIntegration('rec');
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

  it('lists and prunes records with listRecords / pruneRecords', async () => {
    await nango.createIntegration({ provider: 'github', unique_key: 'records' });
    const res = await fetch(`${get().url}/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${get().secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        provider_config_key: 'records',
        connection_id: 'conn-r',
        credentials: { type: 'OAUTH2', access_token: 'x' },
      }),
    });
    expect(res.status).toBe(201);
    const svc = get().server.services.records;
    const env = get().server.services.environments.cachedBySecretKey(get().secretKey)!;
    const ref = await svc.connection(env.id, 'records', 'conn-r');
    const feed = await svc.feed(ref, 'Ticket', true);
    await svc.save(
      feed,
      'Ticket',
      Array.from({ length: 5 }, (_, i) => ({ id: i + 1, subject: `t${i + 1}` })),
    );
    await svc.delete(feed, 'Ticket', [{ id: 5 }]);
    const v2 = await svc.feed(ref, 'Ticket::v2', true);
    await svc.save(v2, 'Ticket::v2', [{ id: 'x', subject: 'variant' }]);

    const base = { providerConfigKey: 'records', connectionId: 'conn-r', model: 'Ticket' };
    const first = await nango.listRecords<{ subject: string }>({ ...base, limit: 2 });
    expect(first.records.map((r) => r.id)).toEqual(['1', '2']);
    expect(first.records[0]).toMatchObject({
      subject: 't1',
      _nango_metadata: { last_action: 'ADDED', deleted_at: null, pruned_at: null },
    });
    expect(first.next_cursor).toEqual(expect.any(String));
    const rest = await nango.listRecords({ ...base, cursor: first.next_cursor! });
    expect(rest.records.map((r) => r.id)).toEqual(['3', '4', '5']);
    expect(rest.next_cursor).toBeNull();
    const deleted = await nango.listRecords({ ...base, filter: 'deleted' });
    expect(deleted.records.map((r) => r._nango_metadata.last_action)).toEqual(['DELETED']);
    const some = await nango.listRecords({
      ...base,
      ids: ['2', '4'],
      modifiedAfter: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(some.records.map((r) => r.id)).toEqual(['2', '4']);
    const variant = await nango.listRecords({ ...base, variant: 'v2' });
    expect(variant.records).toMatchObject([{ id: 'x', subject: 'variant' }]);

    const pruned = await nango.pruneRecords({ ...base, untilCursor: first.next_cursor!, limit: 10 });
    expect(pruned).toEqual({ count: 2, has_more: false });

    await expect(nango.listRecords({ ...base, cursor: 'garbage' })).rejects.toMatchObject({
      response: { status: 400, data: { error: { code: 'invalid_cursor' } } },
    });
  });
});
