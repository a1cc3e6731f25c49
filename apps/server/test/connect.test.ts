import { expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

describeEachDatabase('connect sessions API', (get) => {
  it('creates a session whose token authenticates the session routes, once deleted it is dead', async () => {
    const { api } = get();
    await api('POST', '/integrations', { provider: 'github', unique_key: 'gh' });
    await api('POST', '/integrations', { provider: 'stripe', unique_key: 'stripe' });
    const created = await api('POST', '/connect/sessions', {
      end_user: {
        id: 'eu-1',
        email: 'eu@example.com',
        display_name: 'End User',
        organization: { id: 'org-9', display_name: 'Org' },
      },
      allowed_integrations: ['gh'],
      integrations_config_defaults: { gh: { user_scopes: 'repo', connection_config: { org: 'acme' } } },
    });
    expect(created.status).toBe(201);
    const { token, connect_link, expires_at } = created.body.data;
    expect(token).toMatch(/^ferry_connect_session_[0-9a-f]{64}$/);
    expect(connect_link).toContain(token);
    const ttl = Date.parse(expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);

    const session = await api('GET', '/connect/session', undefined, { authorization: `Bearer ${token}` });
    expect(session.status).toBe(200);
    expect(session.body.data).toMatchObject({
      allowed_integrations: ['gh'],
      end_user: { id: 'eu-1', email: 'eu@example.com', organization: { id: 'org-9', display_name: 'Org' } },
      is_reconnecting: false,
    });

    // a session token sees only the allowed integrations, and cannot use secret-key routes
    const integrations = await api('GET', '/integrations', undefined, { authorization: `Bearer ${token}` });
    expect(integrations.body.data.map((i: { unique_key: string }) => i.unique_key)).toEqual(['gh']);
    expect((await api('GET', '/connections', undefined, { authorization: `Bearer ${token}` })).status).toBe(
      401,
    );
    // and the secret key cannot use session routes
    expect((await api('GET', '/connect/session')).body.error.code).toBe('invalid_connect_session_token');

    expect(
      (await api('DELETE', '/connect/session', undefined, { authorization: `Bearer ${token}` })).status,
    ).toBe(204);
    const dead = await api('GET', '/connect/session', undefined, { authorization: `Bearer ${token}` });
    expect(dead.status).toBe(401);
    expect(dead.body.error.code).toBe('invalid_connect_session_token');
  });

  it('stores only a hash of the token', async () => {
    const { api, server } = get();
    const { body } = await api('POST', '/connect/sessions', { end_user: { id: 'eu-2' } });
    const rows = await server.services.store.db.selectFrom('connect_sessions').select('token_hash').execute();
    expect(rows.some((r) => r.token_hash === body.data.token)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });

  it('rejects expired sessions', async () => {
    const { api, server } = get();
    const { body } = await api('POST', '/connect/sessions', { end_user: { id: 'eu-3' } });
    await server.services.store.db
      .updateTable('connect_sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();
    const res = await api('GET', '/connect/session', undefined, {
      authorization: `Bearer ${body.data.token as string}`,
    });
    expect(res.status).toBe(401);
  });

  it('validates sessions: end user required, integrations must exist', async () => {
    const { api } = get();
    expect((await api('POST', '/connect/sessions', {})).body.error.code).toBe('invalid_body');
    const unknown = await api('POST', '/connect/sessions', {
      end_user: { id: 'x' },
      allowed_integrations: ['nope'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.errors[0].path).toBe('allowed_integrations');
    const badEmail = await api('POST', '/connect/sessions', { end_user: { id: 'x', email: 'not-an-email' } });
    expect(badEmail.body.error.errors[0].path).toBe('end_user.email');
  });

  it('creates a reconnect session pinned to an existing connection', async () => {
    const { api } = get();
    await api('POST', '/connections', {
      provider_config_key: 'stripe',
      connection_id: 'c1',
      credentials: { type: 'API_KEY', apiKey: 'k' },
    });
    const created = await api('POST', '/connect/sessions/reconnect', {
      connection_id: 'c1',
      integration_id: 'stripe',
      end_user: { id: 'eu-4' },
    });
    expect(created.status).toBe(201);
    const session = await api('GET', '/connect/session', undefined, {
      authorization: `Bearer ${created.body.data.token as string}`,
    });
    expect(session.body.data).toMatchObject({ is_reconnecting: true, allowed_integrations: ['stripe'] });
    const missing = await api('POST', '/connect/sessions/reconnect', {
      connection_id: 'nope',
      integration_id: 'stripe',
    });
    expect(missing.body.error.code).toBe('unknown_connection');
  });
});
