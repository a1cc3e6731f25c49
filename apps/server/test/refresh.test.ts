import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';
import { startFakeOAuth, type FakeOAuth } from './fakeOAuth.js';

let fake: FakeOAuth;
afterAll(async () => fake?.close());

const past = () => new Date(Date.now() - 60_000).toISOString();
const soon = (ms: number) => new Date(Date.now() + ms).toISOString();

describeEachDatabase(
  'token refresh',
  (get) => {
    beforeAll(async () => {
      const created = await get().api('POST', '/integrations', {
        provider: 'fake-oauth',
        unique_key: 'fake',
        credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret' },
      });
      expect(created.status).toBe(200);
    });

    beforeEach(() => {
      fake.calls.length = 0;
      fake.behaviour.failWith = undefined;
      fake.behaviour.errorDescription = undefined;
      fake.behaviour.rotateRefreshToken = true;
      fake.behaviour.delayMs = 0;
    });

    async function connection(id: string, credentials: Record<string, unknown>, key = 'fake') {
      const res = await get().api('POST', '/connections', {
        provider_config_key: key,
        connection_id: id,
        credentials: { type: 'OAUTH2', ...credentials },
      });
      expect(res.status).toBe(201);
    }

    it('refreshes an expired token on read and keeps the refresh token when the provider omits it', async () => {
      const { api } = get();
      await connection('expired', { access_token: 'old', refresh_token: 'keep-me', expires_at: past() });
      fake.behaviour.rotateRefreshToken = false;
      const res = await api('GET', '/connections/expired?provider_config_key=fake&refresh_token=true');
      expect(res.status).toBe(200);
      expect(res.body.credentials.access_token).toMatch(/^access-/);
      expect(res.body.credentials.refresh_token).toBe('keep-me');
      expect(Date.parse(res.body.credentials.expires_at)).toBeGreaterThan(Date.now() + 3000_000);
      expect(fake.calls).toHaveLength(1);
      expect(fake.calls[0]?.params).toMatchObject({
        grant_type: 'refresh_token',
        refresh_token: 'keep-me',
        client_id: 'cid',
        client_secret: 'csecret',
      });
      // fresh now: the next read does not call the provider
      await api('GET', '/connections/expired?provider_config_key=fake');
      expect(fake.calls).toHaveLength(1);
      const ops = await api('GET', '/logs/operations?kind=auth&connection_id=expired');
      expect(ops.body.data.map((o: { name: string }) => o.name)).toContain('token.refresh');
    });

    it('refreshes within the margin, on force_refresh, and rotates the refresh token when given one', async () => {
      const { api } = get();
      await connection('margin', { access_token: 'old', refresh_token: 'r0', expires_at: soon(5 * 60_000) });
      const res = await api('GET', '/connections/margin?provider_config_key=fake&refresh_token=true');
      expect(res.body.credentials.refresh_token).toMatch(/^refresh-/);
      expect(fake.calls).toHaveLength(1);
      await connection('far', { access_token: 'old', refresh_token: 'r1', expires_at: soon(3 * 3600_000) });
      expect(
        (await api('GET', '/connections/far?provider_config_key=fake')).body.credentials.access_token,
      ).toBe('old');
      expect(fake.calls).toHaveLength(1);
      const forced = await api('GET', '/connections/far?provider_config_key=fake&force_refresh=true');
      expect(forced.body.credentials.access_token).toMatch(/^access-/);
      expect(fake.calls).toHaveLength(2);
    });

    it('uses HTTP Basic client auth and the provider token_expiration_buffer when the provider says so', async () => {
      const { api } = get();
      const integration = await api('POST', '/integrations', {
        provider: 'fake-oauth-basic',
        unique_key: 'fake-basic',
        credentials: { type: 'OAUTH2', client_id: 'id:1', client_secret: 's' },
      });
      expect(integration.status).toBe(200);
      // 5 minutes left is outside a 60 s buffer: no refresh
      await connection(
        'buffer',
        { access_token: 'old', refresh_token: 'r', expires_at: soon(5 * 60_000) },
        'fake-basic',
      );
      expect(
        (await api('GET', '/connections/buffer?provider_config_key=fake-basic')).body.credentials
          .access_token,
      ).toBe('old');
      expect(fake.calls).toHaveLength(0);
      await api('GET', '/connections/buffer?provider_config_key=fake-basic&force_refresh=true');
      expect(fake.calls[0]?.authorization).toBe(`Basic ${Buffer.from('id%3A1:s').toString('base64')}`);
      expect(fake.calls[0]?.params.client_secret).toBeUndefined();
    });

    it('sends the provider refresh_params interpolated with the connection config', async () => {
      const { api } = get();
      const integration = await api('POST', '/integrations', {
        provider: 'fake-oauth-params',
        unique_key: 'fake-params',
        credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' },
      });
      expect(integration.status).toBe(200);
      const created = await api('POST', '/connections', {
        provider_config_key: 'fake-params',
        connection_id: 'params',
        connection_config: { audience: 'https://api.example.com' },
        credentials: { type: 'OAUTH2', access_token: 'old', refresh_token: 'r', expires_at: past() },
      });
      expect(created.status).toBe(201);
      expect((await api('GET', '/connections/params?provider_config_key=fake-params')).status).toBe(200);
      expect(fake.calls[0]?.params.audience).toBe('https://api.example.com');
      expect(fake.calls[0]?.params).not.toHaveProperty('dropped');
    });

    it('makes one refresh for many concurrent reads', async () => {
      const { api } = get();
      await connection('storm', { access_token: 'old', refresh_token: 'r', expires_at: past() });
      fake.behaviour.delayMs = 100;
      const results = await Promise.all(
        Array.from({ length: 50 }, () => api('GET', '/connections/storm?provider_config_key=fake')),
      );
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(new Set(results.map((r) => r.body.credentials.access_token)).size).toBe(1);
      expect(fake.calls).toHaveLength(1);
    });

    it('records failures with a cooldown, shows them on the connection, and ends exhausted', async () => {
      const { api, server } = get();
      await connection('broken', { access_token: 'old', refresh_token: 'revoked', expires_at: past() });
      fake.behaviour.failWith = 400;
      const first = await api('GET', '/connections/broken?provider_config_key=fake');
      expect(first.status).toBe(424);
      expect(first.body.error.code).toBe('invalid_credentials');
      expect(first.body.error.message).toContain('invalid_grant');
      expect(first.body.error.payload).toMatchObject({ type: 'refresh_token_failed', attempts: 1 });
      // within the cooldown: no new call to the provider
      expect((await api('GET', '/connections/broken?provider_config_key=fake')).status).toBe(424);
      expect(fake.calls).toHaveLength(1);
      const listed = await api('GET', '/connections?connectionId=broken');
      expect(listed.body.connections[0].errors).toEqual([
        { type: 'refresh_token_failed', log_id: first.body.error.payload.log_id },
      ]);
      // forced attempts bypass the cooldown; after 5 failures the connection is exhausted
      for (let i = 0; i < 4; i++)
        await api('GET', '/connections/broken?provider_config_key=fake&force_refresh=true');
      const exhausted = await api('GET', '/connections/broken?provider_config_key=fake');
      expect(exhausted.body.error.payload.type).toBe('refresh_exhausted');
      expect(fake.calls).toHaveLength(5);
      // a later success clears the failure
      fake.behaviour.failWith = undefined;
      const healed = await api('GET', '/connections/broken?provider_config_key=fake&force_refresh=true');
      expect(healed.status).toBe(200);
      expect((await api('GET', '/connections?connectionId=broken')).body.connections[0].errors).toEqual([]);
      await server.services.activity.flush();
    });

    it('records a provider error holding NUL and a lone surrogate as U+FFFD, not a 500 (PostgreSQL refuses them)', async () => {
      const { api, server } = get();
      await connection('nul-error', { access_token: 'old', refresh_token: 'r', expires_at: past() });
      fake.behaviour.failWith = 400;
      fake.behaviour.errorDescription = 'revoked\u0000 by \ud800 admin';
      const first = await api('GET', '/connections/nul-error?provider_config_key=fake');
      expect(first.status).toBe(424);
      expect(first.body.error.message).toContain('invalid_grant');
      // the recorded failure is read back from the store, alike on both databases
      const again = await api('GET', '/connections/nul-error?provider_config_key=fake');
      expect(again.status).toBe(424);
      expect(again.body.error.message).not.toContain('\u0000');
      expect(fake.calls).toHaveLength(1);
      await server.services.activity.flush();
      const ops = await api('GET', '/logs/operations?kind=auth&connection_id=nul-error');
      expect(ops.status).toBe(200);
      expect(ops.body.data.map((o: { name: string }) => o.name)).toContain('token.refresh');
    });

    it('refreshes idle connections nearing expiry in the background sweep', async () => {
      const { api, server } = get();
      await connection('idle', { access_token: 'old', refresh_token: 'r', expires_at: soon(60_000) });
      const refreshed = await server.services.refresher.sweepOnce();
      expect(refreshed).toBeGreaterThanOrEqual(1);
      expect(fake.calls.some((c) => c.params.refresh_token === 'r')).toBe(true);
      const res = await api('GET', '/connections/idle?provider_config_key=fake');
      expect(res.body.credentials.access_token).toMatch(/^access-/);
    });

    it('refuses expired credentials that cannot be refreshed', async () => {
      const { api } = get();
      await connection('no-refresh', { access_token: 'old', expires_at: past() });
      const res = await api('GET', '/connections/no-refresh?provider_config_key=fake');
      expect(res.status).toBe(424);
      expect(res.body.error.payload.type).toBe('refresh_token_missing');
    });
  },
  {
    setup: async () => {
      fake ??= await startFakeOAuth();
      return { providersFile: fake.providersFile };
    },
  },
);
