import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createEncryptor, keyIdOf } from '../src/crypto/encryption.js';
import { ENCRYPTED_COLUMNS } from '../src/crypto/keyCheck.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { databases, tempDatabase } from './harness.js';
import { sharedPostgresSchema, startServerProcess, type ServerProcess } from './processes.js';

const pgUrl = process.env.FERRY_TEST_POSTGRES_URL;
const newKey = (): string => randomBytes(32).toString('base64');
const idOf = (key: string): string => keyIdOf(Buffer.from(key, 'base64'));

describe('encryption key at start-up: configuration', () => {
  it('refuses PostgreSQL without FERRY_ENCRYPTION_KEY, and generates no key file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-key-'));
    const env = { FERRY_DATA_DIR: dir, FERRY_DATABASE_URL: 'postgres://u@h/db' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/FERRY_ENCRYPTION_KEY: required with PostgreSQL/);
    expect(existsSync(join(dir, 'encryption.key'))).toBe(false);
    expect(loadConfig({ ...env, FERRY_ENCRYPTION_KEY: newKey() }).database.kind).toBe('postgres');
  });

  it('still generates a key for the embedded SQLite database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-key-'));
    expect(loadConfig({ FERRY_DATA_DIR: dir }).encryptionKeyGenerated).toBe(true);
    expect(existsSync(join(dir, 'encryption.key'))).toBe(true);
  });
});

for (const kind of databases) {
  describe(`encryption key at start-up: stored data [${kind}]`, () => {
    const running: RunningServer[] = [];
    const drops: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const s of running.splice(0)) await s.close();
    });
    afterAll(async () => {
      for (const d of drops) await d();
    });
    const database = async () => {
      const db = await tempDatabase(kind);
      drops.push(db.drop);
      return db.options;
    };
    const start = async (
      options: Awaited<ReturnType<typeof database>>,
      encryptionKey: string,
      previousEncryptionKeys: string[] = [],
      records?: { encryption: boolean },
    ) => {
      const secretKey = randomUUID();
      const server = await startServer({
        database: options,
        encryptionKey,
        previousEncryptionKeys,
        secretKey,
        serverUrl: 'http://localhost:3003',
        providersFile: undefined,
        bodyLimit: '1mb',
        port: 0,
        host: '127.0.0.1',
        logger: createLogger({ level: 'silent' }),
        records: { janitorIntervalMs: 0, ...records },
      });
      running.push(server);
      const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        fetch(server.url + path, {
          method,
          headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json', ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      return { server, api, secretKey };
    };
    const stop = async (server: RunningServer) => {
      running.splice(running.indexOf(server), 1);
      await server.close();
    };

    it('refuses a wrong key over existing data, naming the missing key id; starts with it as a previous key', async () => {
      const db = await database();
      const k1 = newKey();
      const first = await start(db, k1);
      const created = await first.api('POST', '/integrations', {
        provider: 'github',
        unique_key: 'gh',
        credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'the-client-secret' },
      });
      expect(created.status).toBe(200);
      await stop(first.server);

      const k2 = newKey();
      const refused = start(db, k2);
      await expect(refused).rejects.toThrow(`encrypted with key id ${idOf(k1)}`);
      await expect(refused).rejects.toThrow(/FERRY_PREVIOUS_ENCRYPTION_KEYS/);

      const rotated = await start(db, k2, [k1]);
      const read = await rotated.api('GET', '/integrations/gh?include=credentials');
      expect(read.status).toBe(200);
      expect(
        ((await read.json()) as { data: { credentials: { client_secret: string } } }).data.credentials,
      ).toMatchObject({ client_secret: 'the-client-secret' });
      await stop(rotated.server);

      // After the rotation, a server still on the old key alone is refused: the servers now write with k2.
      await expect(start(db, k1)).rejects.toThrow(`encrypted with key id ${idOf(k2)}`);
    });

    it('refuses a start without the key of encrypted record payloads; starts and reads them with it as a previous key', async () => {
      const db = await database();
      const kA = newKey();
      const kB = newKey();
      const encrypted = { encryption: true };
      const first = await start(db, kA, [], encrypted);
      expect(
        (await first.api('POST', '/integrations', { provider: 'github', unique_key: 'gh' })).status,
      ).toBe(200);
      const conn = await first.api('POST', '/connections', {
        provider_config_key: 'gh',
        connection_id: 'c1',
        credentials: { type: 'OAUTH2', access_token: 'the-token' },
      });
      expect(conn.status).toBe(201);
      const { records, environments, store } = first.server.services;
      const env = environments.cachedBySecretKey(first.secretKey)!;
      const feedId = await records.feed(await records.connection(env.id, 'gh', 'c1'), 'Item', true);
      await records.save(feedId, 'Item', [{ id: '1', name: 'written with A' }]);
      const stored = await store.db.selectFrom('records').select('payload').executeTakeFirstOrThrow();
      expect(stored.payload).toMatch(new RegExp(`^v1:${idOf(kA)}:`));
      await stop(first.server);

      // Rotate to B, and move every other secret to B: only the record payloads still need A.
      const rotated = await start(db, kB, [kA], encrypted);
      const both = createEncryptor(kB, [kA]);
      const rdb = rotated.server.services.store.db;
      for (const [table, column] of ENCRYPTED_COLUMNS) {
        const { rows } = await sql<{
          value: string;
        }>`select ${sql.ref(column)} as value from ${sql.table(table)}
          where ${sql.ref(column)} like ${`v1:${idOf(kA)}:%`}`.execute(rdb);
        for (const { value } of rows)
          await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${both.encrypt(both.decrypt(value))}
            where ${sql.ref(column)} = ${value}`.execute(rdb);
      }
      await stop(rotated.server);

      const refused = start(db, kB, [], encrypted);
      await expect(refused).rejects.toThrow(`encrypted with key id ${idOf(kA)}`);

      const again = await start(db, kB, [kA], encrypted);
      const read = await again.api('GET', '/records?model=Item', undefined, {
        'connection-id': 'c1',
        'provider-config-key': 'gh',
      });
      expect(read.status).toBe(200);
      expect(((await read.json()) as { records: { name: string }[] }).records).toMatchObject([
        { id: '1', name: 'written with A' },
      ]);
    });

    it('knows every encrypted column of the schema (a new *_enc column must join the check)', async () => {
      const { server } = await start(await database(), newKey());
      const { db } = server.services.store;
      const schema =
        kind === 'postgres'
          ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
          : undefined;
      const encrypted = (await db.introspection.getTables())
        .filter((t) => t.schema === schema)
        .flatMap((t) => t.columns.map((c) => `${t.name}.${c.name}`))
        .filter((c) => c.endsWith('_enc'))
        .sort();
      expect(encrypted).toEqual(ENCRYPTED_COLUMNS.map(([t, c]) => `${t}.${c}`).sort());
    });

    it('refuses a second server with another key over a database that holds no secret yet', async () => {
      const db = await database();
      const k1 = newKey();
      await start(db, k1);
      await expect(start(db, newKey())).rejects.toThrow(`encrypted with key id ${idOf(k1)}`);
      const same = await start(db, k1);
      expect((await same.api('GET', '/integrations')).status).toBe(200);
    });
  });
}

describe.skipIf(!pgUrl)('encryption key at start-up: server processes on one PostgreSQL', () => {
  const processes: ServerProcess[] = [];
  let shared: Awaited<ReturnType<typeof sharedPostgresSchema>> | undefined;
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await shared?.drop();
  });

  it('a process without FERRY_ENCRYPTION_KEY refuses to start with a clear message', async () => {
    expect(process.env.FERRY_ENCRYPTION_KEY).toBeUndefined();
    shared = await sharedPostgresSchema();
    const dir = mkdtempSync(join(tmpdir(), 'ferry-key-'));
    await expect(
      startServerProcess({
        FERRY_DATABASE_URL: shared.url,
        FERRY_DATA_DIR: dir,
        FERRY_SECRET_KEY: randomUUID(),
      }),
    ).rejects.toThrow(/FERRY_ENCRYPTION_KEY: required with PostgreSQL/);
    expect(existsSync(join(dir, 'encryption.key'))).toBe(false);
  });

  it('a process with another key than the running one refuses to start, naming the key id', async () => {
    shared ??= await sharedPostgresSchema();
    const k1 = newKey();
    const env = { FERRY_DATABASE_URL: shared.url, FERRY_SECRET_KEY: randomUUID() };
    processes.push(await startServerProcess({ ...env, FERRY_ENCRYPTION_KEY: k1 }));
    await expect(startServerProcess({ ...env, FERRY_ENCRYPTION_KEY: newKey() })).rejects.toThrow(
      `encrypted with key id ${idOf(k1)}`,
    );
    processes.push(
      await startServerProcess({
        ...env,
        FERRY_ENCRYPTION_KEY: newKey(),
        FERRY_PREVIOUS_ENCRYPTION_KEYS: k1,
      }),
    );
  });
});
