import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Ferry } from '@ferry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOAuth, type FakeOAuth } from './fakeOAuth.js';
import { sharedPostgresSchema, startServerProcess, type ServerProcess } from './processes.js';

const pgUrl = process.env.FERRY_TEST_POSTGRES_URL;

describe.skipIf(!pgUrl)('token refresh across two server processes on PostgreSQL', () => {
  let fake: FakeOAuth;
  let servers: ServerProcess[] = [];
  let database: Awaited<ReturnType<typeof sharedPostgresSchema>> | undefined;
  const secretKey = randomUUID();

  beforeAll(async () => {
    fake = await startFakeOAuth();
    fake.behaviour.delayMs = 200; // a slow provider widens the race
    database = await sharedPostgresSchema();
    const env = {
      FERRY_DATABASE_URL: database.url,
      FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      FERRY_SECRET_KEY: secretKey,
      FERRY_PROVIDERS_FILE: fake.providersFile,
      FERRY_DATA_DIR: mkdtempSync(join(tmpdir(), 'ferry-proc-')),
    };
    // the first process migrates; the second starts on the migrated database
    servers.push(await startServerProcess(env));
    servers.push(await startServerProcess(env));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    servers = [];
    await fake?.close();
    await database?.drop();
  });

  it('200 concurrent getConnection calls on an expired token cause exactly one refresh', async () => {
    const [a, b] = servers.map((s) => new Ferry({ host: s.url, secretKey }));
    if (!a || !b) throw new Error('servers not started');
    await a.createIntegration({
      provider: 'fake-oauth',
      unique_key: 'fake',
      credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'cs' },
    });
    await a.createConnection({
      provider_config_key: 'fake',
      connection_id: 'shared',
      credentials: {
        type: 'OAUTH2',
        access_token: 'expired',
        refresh_token: 'r0',
        expires_at: new Date(Date.now() - 1000).toISOString(),
      },
    });
    const calls = Array.from({ length: 200 }, (_, i) =>
      (i % 2 === 0 ? a : b).getConnection('fake', 'shared'),
    );
    const results = await Promise.all(calls);
    const tokens = new Set(results.map((r) => (r.credentials as { access_token: string }).access_token));
    expect(fake.calls).toHaveLength(1);
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toMatch(/^access-/);
    const after = await b.getConnection('fake', 'shared', { refreshToken: true });
    expect((after.credentials as { refresh_token: string }).refresh_token).toMatch(/^refresh-/);
    await Promise.all([a.close(), b.close()]);
  });
});
