import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

const TOKEN = 'gho_KNOWN_ACCESS_TOKEN_4f1c2e';
const REFRESH = 'ghr_KNOWN_REFRESH_TOKEN_77aa';
const CLIENT_SECRET = 'KNOWN_CLIENT_SECRET_a9b8c7';
const API_KEY = 'sk_live_KNOWN_API_KEY_0123';

describeEachDatabase('secrets at rest', (get) => {
  it('stores no credential in clear anywhere in the database', async () => {
    const { api, server, dbKind, dbPath } = get();
    await api('POST', '/integrations', {
      provider: 'github',
      unique_key: 'gh',
      credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: CLIENT_SECRET },
    });
    await api('POST', '/integrations', { provider: 'stripe', unique_key: 'stripe' });
    expect(
      (
        await api('POST', '/connections', {
          provider_config_key: 'gh',
          connection_id: 'c1',
          credentials: { type: 'OAUTH2', access_token: TOKEN, refresh_token: REFRESH },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('POST', '/connections', {
          provider_config_key: 'stripe',
          connection_id: 'c2',
          credentials: { type: 'API_KEY', apiKey: API_KEY },
        })
      ).status,
    ).toBe(201);
    // the secrets are really there, readable through the API
    expect(
      (await api('GET', '/connections/c1?provider_config_key=gh&refresh_token=true')).body.credentials,
    ).toMatchObject({ access_token: TOKEN, refresh_token: REFRESH });
    await server.services.activity.flush();

    let haystack: string;
    if (dbKind === 'sqlite' && dbPath) {
      haystack = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f).toString('latin1'))
        .join('\n');
      expect(haystack.length).toBeGreaterThan(0);
      expect(haystack).toContain('connection.import'); // the scan does see the data written
    } else {
      const tables = [
        'environments',
        'integrations',
        'end_users',
        'connections',
        'connect_sessions',
        'operations',
        'operation_messages',
      ];
      const parts: string[] = [];
      for (const t of tables) {
        const rows = await sql<{
          row: string;
        }>`select row_to_json(t)::text as row from ${sql.table(t)} t`.execute(server.services.store.db);
        parts.push(...rows.rows.map((r) => r.row));
      }
      haystack = parts.join('\n');
      expect(haystack).toContain('connection.import');
    }
    for (const secret of [TOKEN, REFRESH, CLIENT_SECRET, API_KEY, get().secretKey])
      expect(haystack).not.toContain(secret);
  });
});
