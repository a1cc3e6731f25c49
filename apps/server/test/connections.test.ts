import { expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

describeEachDatabase('connections API', (get) => {
  const oauth = (token: string) => ({
    type: 'OAUTH2',
    access_token: token,
    refresh_token: `r-${token}`,
    expires_at: '2030-01-01T00:00:00Z',
  });

  it('imports a connection and reads it back with credentials, refresh token stripped unless asked', async () => {
    const { api } = get();
    await api('POST', '/integrations', { provider: 'github', unique_key: 'gh' });
    const created = await api('POST', '/connections', {
      provider_config_key: 'gh',
      connection_id: 'user-1',
      credentials: oauth('tok-1'),
      metadata: { team: 'a' },
      connection_config: { org: 'acme' },
      end_user: { id: 'u1', email: 'u1@example.com', display_name: 'User One' },
      tags: { plan: 'pro' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      connection_id: 'user-1',
      provider_config_key: 'gh',
      provider: 'github',
      metadata: { team: 'a' },
    });
    expect(created.body.credentials.refresh_token).toBeUndefined();

    const read = await api('GET', '/connections/user-1?provider_config_key=gh');
    expect(read.status).toBe(200);
    expect(read.body.credentials).toMatchObject({
      type: 'OAUTH2',
      access_token: 'tok-1',
      expires_at: '2030-01-01T00:00:00.000Z',
    });
    expect(read.body.credentials.refresh_token).toBeUndefined();
    expect(read.body.end_user).toMatchObject({ id: 'u1', email: 'u1@example.com', display_name: 'User One' });
    expect(read.body.connection_config).toEqual({ org: 'acme' });
    expect(read.body.last_fetched_at).not.toBeNull();

    const withRefresh = await api('GET', '/connections/user-1?provider_config_key=gh&refresh_token=true');
    expect(withRefresh.body.credentials.refresh_token).toBe('r-tok-1');
  });

  it('answers the credential read the same on its fast path and through express', async () => {
    const { url, secretKey, api } = get();
    const viaExpress = async (
      path: string,
    ): Promise<{ status: number; body: any; headers: Record<string, unknown> }> => {
      const { request } = await import('node:http');
      // A request that says it has a body (content-length: 0) is left to express.
      return new Promise((resolve, reject) => {
        const req = request(
          url + path,
          { headers: { authorization: `Bearer ${secretKey}`, 'content-length': '0' } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    };
    for (const path of [
      '/connections/user-1?provider_config_key=gh',
      '/connections/user-1?provider_config_key=gh&refresh_token=true',
      '/connections/nope?provider_config_key=gh',
      '/connections/user-1',
      '/connections/user-1?provider_config_key=gh&bogus=1',
      '/connections/user%2F1?provider_config_key=gh',
    ]) {
      const fast = await api('GET', path);
      const slow = await viaExpress(path);
      const strip = (b: any) =>
        b && typeof b === 'object' && 'last_fetched_at' in b ? { ...b, last_fetched_at: null } : b;
      expect([path, fast.status, strip(fast.body)]).toEqual([path, slow.status, strip(slow.body)]);
      expect(fast.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(fast.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('never returns the refresh token at any depth of credentials.raw unless refresh_token=true, on both paths', async () => {
    const { api, url, secretKey } = get();
    await api('POST', '/integrations', { provider: 'github', unique_key: 'gh-raw' });
    const rt = 'rt-deep-0123456789';
    const created = await api('POST', '/connections', {
      provider_config_key: 'gh-raw',
      connection_id: 'raw-1',
      credentials: {
        type: 'OAUTH2',
        access_token: 'at-raw',
        refresh_token: rt,
        raw: {
          access_token: 'at-raw',
          refresh_token: rt,
          nested: { deeper: { renew_with: rt, scope: 'repo' } },
          list: [rt, 'keep', { refreshToken: 'another-rt-987654' }],
          echo: 'another-rt-987654',
          body: `access_token=at-raw&refresh_token=${rt}`,
        },
      },
    });
    expect(created.status).toBe(201);
    const expressGet = async (path: string): Promise<string> => {
      const { request } = await import('node:http');
      return new Promise((resolve, reject) => {
        const req = request(
          url + path,
          { headers: { authorization: `Bearer ${secretKey}`, 'content-length': '0' } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end();
      });
    };
    const path = '/connections/raw-1?provider_config_key=gh-raw';
    for (const [via, text] of [
      ['import', JSON.stringify(created.body)],
      ['fast path', JSON.stringify((await api('GET', path)).body)],
      ['express', await expressGet(path)],
    ] as const) {
      expect([via, text.includes(rt), text.includes('another-rt-987654')]).toEqual([via, false, false]);
      expect(JSON.parse(text).credentials.raw).toEqual({
        access_token: 'at-raw',
        nested: { deeper: { scope: 'repo' } },
        list: ['keep', {}],
      });
    }
    for (const text of [
      JSON.stringify((await api('GET', `${path}&refresh_token=true`)).body),
      await expressGet(`${path}&refresh_token=true`),
    ]) {
      const body = JSON.parse(text);
      expect(body.credentials.refresh_token).toBe(rt);
      expect(body.credentials.raw.nested.deeper.renew_with).toBe(rt);
      expect(body.credentials.raw.list[2]).toEqual({ refreshToken: 'another-rt-987654' });
    }
  });

  it('lists with filters and pages', async () => {
    const { api } = get();
    await api('POST', '/integrations', { provider: 'stripe', unique_key: 'stripe' });
    for (let i = 0; i < 5; i++) {
      const res = await api('POST', '/connections', {
        provider_config_key: 'stripe',
        connection_id: `s-${i}`,
        credentials: { type: 'API_KEY', apiKey: `sk_${i}` },
        end_user: { id: i % 2 === 0 ? 'even' : 'odd', email: `${i}@example.com` },
        organization: { id: 'org-1' },
        tags: { parity: i % 2 === 0 ? 'even' : 'odd' },
      });
      expect(res.status).toBe(201);
    }
    const all = await api('GET', '/connections?integrationId=stripe');
    expect(all.body.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual([
      's-4',
      's-3',
      's-2',
      's-1',
      's-0',
    ]);
    expect(all.body.connections[0].errors).toEqual([]);
    const evens = await api('GET', '/connections?endUserId=even');
    expect(evens.body.connections).toHaveLength(3);
    const tagged = await api('GET', '/connections?tags[parity]=odd');
    expect(tagged.body.connections.map((c: { connection_id: string }) => c.connection_id).sort()).toEqual([
      's-1',
      's-3',
    ]);
    const search = await api('GET', '/connections?search=S-3');
    expect(search.body.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual(['s-3']);
    const page = await api('GET', '/connections?integrationId=stripe&limit=2&page=1');
    expect(page.body.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual([
      's-2',
      's-1',
    ]);
    const byOrg = await api('GET', '/connections?endUserOrganizationId=org-1&integrationId=stripe,gh');
    expect(byOrg.body.connections).toHaveLength(5);
    const one = await api('GET', '/connections?connectionId=s-0');
    expect(one.body.connections).toHaveLength(1);
    expect((await api('GET', '/connections?limit=0')).body.error.code).toBe('invalid_query_params');
  });

  it('replaces and merges metadata, for one or several connections', async () => {
    const { api } = get();
    const set = await api('POST', '/connections/metadata', {
      connection_id: ['s-0', 's-1'],
      provider_config_key: 'stripe',
      metadata: { a: 1, b: { c: 2 } },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      connection_id: ['s-0', 's-1'],
      provider_config_key: 'stripe',
      metadata: { a: 1, b: { c: 2 } },
    });
    const merged = await api('PATCH', '/connections/metadata', {
      connection_id: 's-0',
      provider_config_key: 'stripe',
      metadata: { b: { d: 3 }, e: 4 },
    });
    expect(merged.status).toBe(200);
    expect((await api('GET', '/connections/s-0?provider_config_key=stripe')).body.metadata).toEqual({
      a: 1,
      b: { d: 3 },
      e: 4,
    });
    expect((await api('GET', '/connections/s-1?provider_config_key=stripe')).body.metadata).toEqual({
      a: 1,
      b: { c: 2 },
    });
    const replaced = await api('POST', '/connections/metadata', {
      connection_id: 's-0',
      provider_config_key: 'stripe',
      metadata: { z: true },
    });
    expect(replaced.status).toBe(200);
    expect((await api('GET', '/connections/s-0?provider_config_key=stripe')).body.metadata).toEqual({
      z: true,
    });
    const missing = await api('POST', '/connections/metadata', {
      connection_id: ['s-1', 'nope'],
      provider_config_key: 'stripe',
      metadata: { x: 1 },
    });
    expect(missing.body.error.code).toBe('unknown_connection');
    // all or nothing: s-1 was not changed by the failed call
    expect((await api('GET', '/connections/s-1?provider_config_key=stripe')).body.metadata).toEqual({
      a: 1,
      b: { c: 2 },
    });
  });

  it('patches and deletes a connection', async () => {
    const { api } = get();
    const patched = await api('PATCH', '/connections/s-2?provider_config_key=stripe', {
      tags: { tier: 'gold' },
      end_user: { id: 'new-user' },
    });
    expect(patched.body).toEqual({ success: true });
    const read = await api('GET', '/connections/s-2?provider_config_key=stripe');
    expect(read.body.tags).toEqual({ tier: 'gold' });
    expect(read.body.end_user.id).toBe('new-user');
    expect((await api('DELETE', '/connections/s-2?provider_config_key=stripe')).body).toEqual({
      success: true,
    });
    const gone = await api('GET', '/connections/s-2?provider_config_key=stripe');
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('unknown_connection');
    expect((await api('DELETE', '/connections/s-2?provider_config_key=stripe')).body.error.code).toBe(
      'unknown_connection',
    );
  });

  it('rejects bad imports', async () => {
    const { api } = get();
    const dup = await api('POST', '/connections', {
      provider_config_key: 'stripe',
      connection_id: 's-0',
      credentials: { type: 'API_KEY', apiKey: 'x' },
    });
    expect(dup.status).toBe(409);
    const unknownIntegration = await api('POST', '/connections', {
      provider_config_key: 'nope',
      credentials: { type: 'API_KEY', apiKey: 'x' },
    });
    expect(unknownIntegration.body.error.code).toBe('unknown_provider_config');
    const wrongMode = await api('POST', '/connections', {
      provider_config_key: 'stripe',
      credentials: oauth('x'),
    });
    expect(wrongMode.status).toBe(400);
    const badType = await api('POST', '/connections', {
      provider_config_key: 'stripe',
      credentials: { type: 'MAGIC' },
    });
    expect(badType.body.error.code).toBe('invalid_body');
    const noPck = await api('GET', '/connections/s-0');
    expect(noPck.body.error.code).toBe('invalid_query_params');
    const generated = await api('POST', '/connections', {
      provider_config_key: 'stripe',
      credentials: { type: 'API_KEY', apiKey: 'gen' },
    });
    expect(generated.status).toBe(201);
    expect(generated.body.connection_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records imports and deletions in the activity log, paged and filtered', async () => {
    const { api } = get();
    const ops = await api('GET', '/logs/operations?kind=auth&limit=2');
    expect(ops.status).toBe(200);
    expect(ops.body.data).toHaveLength(2);
    expect(ops.body.data[0]).toMatchObject({
      kind: 'auth',
      name: 'connection.import',
      status: 'success',
      environment: 'dev',
    });
    expect(ops.body.next_cursor).toEqual(expect.any(String));
    const next = await api(
      'GET',
      `/logs/operations?kind=auth&limit=2&cursor=${ops.body.next_cursor as string}`,
    );
    const firstIds = ops.body.data.map((o: { id: string }) => o.id);
    expect(next.body.data.every((o: { id: string }) => !firstIds.includes(o.id))).toBe(true);

    const deletions = await api('GET', '/logs/operations?kind=admin&connection_id=s-2');
    expect(deletions.body.data).toHaveLength(1);
    const messages = await api('GET', `/logs/operations/${ops.body.data[0].id as string}/messages`);
    expect(messages.body.data[0]).toMatchObject({ level: 'info' });
    expect(messages.body.data[0].message).toContain('Imported');
    const future = await api('GET', '/logs/operations?from=2099-01-01T00:00:00Z');
    expect(future.body.data).toEqual([]);
    expect((await api('GET', '/logs/operations?cursor=garbage')).body.error.code).toBe(
      'invalid_query_params',
    );
    expect((await api('GET', '/logs/operations/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
