import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { databases, tempDatabase } from '../../test/harness.js';
import { migrationProvider } from './migrations.js';
import { createStore, type Store } from './store.js';

/** The migrations recorded as applied, with when they ran. */
async function applied(store: Store): Promise<{ name: string; timestamp: string }[]> {
  const { rows } = await sql<{ name: string; timestamp: string }>`
    select name, timestamp from kysely_migration order by name`.execute(store.db);
  return rows.map((r) => ({ name: r.name, timestamp: String(r.timestamp) }));
}

function environment(name: string) {
  return {
    name,
    secret_key_hash: `hash-${name}`,
    public_key: `public-${name}`,
    webhook_signing_key_enc: null,
    created_at: new Date().toISOString(),
  };
}

function integration(environmentId: number) {
  return {
    environment_id: environmentId,
    unique_key: 'x',
    provider: 'github',
    display_name: 'x',
    credentials_enc: null,
    forward_webhooks: 1,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  };
}

for (const kind of databases) {
  describe(`store [${kind}]`, () => {
    const drops: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const d of drops) await d();
    });

    it('migrates once and opens an already migrated database without running anything again', async () => {
      const db = await tempDatabase(kind);
      drops.push(db.drop);
      const names = Object.keys(await migrationProvider(kind).getMigrations()).sort();
      const first = await createStore(db.options);
      const afterFirst = await applied(first);
      expect(afterFirst.map((m) => m.name)).toEqual(names);
      await first.db.insertInto('environments').values(environment('kept')).execute();
      await first.destroy();
      const second = await createStore(db.options);
      // Nothing ran: the same migrations, applied at the same moments, and the data is untouched.
      expect(await applied(second)).toEqual(afterFirst);
      const kept = await second.db.selectFrom('environments').select('name').execute();
      expect(kept).toEqual([{ name: 'kept' }]);
      await second.destroy();
    });

    it('enforces foreign keys', async () => {
      const db = await tempDatabase(kind);
      drops.push(db.drop);
      const store = await createStore(db.options);
      let error: unknown;
      try {
        await store.db.insertInto('integrations').values(integration(42)).execute();
      } catch (err) {
        error = err;
      }
      // The foreign-key violation itself, not any error (a missing column or a typo would also throw).
      const code = (error as { code?: unknown } | undefined)?.code;
      expect(code).toBe(kind === 'sqlite' ? 'SQLITE_CONSTRAINT_FOREIGNKEY' : '23503');
      // The same row with an existing environment is accepted.
      const env = await store.db
        .insertInto('environments')
        .values(environment('fk'))
        .returning('id')
        .executeTakeFirstOrThrow();
      await store.db.insertInto('integrations').values(integration(env.id)).execute();
      expect(await store.db.selectFrom('integrations').select('environment_id').execute()).toEqual([
        { environment_id: env.id },
      ]);
      await store.destroy();
    });
  });
}
