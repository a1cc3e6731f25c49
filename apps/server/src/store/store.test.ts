import { afterAll, describe, expect, it } from 'vitest';
import { databases, tempDatabase } from '../../test/harness.js';
import { createStore } from './store.js';

for (const kind of databases) {
  describe(`store [${kind}]`, () => {
    const drops: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const d of drops) await d();
    });

    it('migrates once and opens an already migrated database', async () => {
      const db = await tempDatabase(kind);
      drops.push(db.drop);
      const first = await createStore(db.options);
      await first.destroy();
      const second = await createStore(db.options);
      const tables = [
        'environments',
        'integrations',
        'connections',
        'connect_sessions',
        'operations',
        'operation_messages',
      ];
      for (const t of tables) {
        await expect(
          second.db
            .selectFrom(t as 'environments')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirst(),
        ).resolves.toBeDefined();
      }
      await second.destroy();
    });

    it('enforces foreign keys', async () => {
      const db = await tempDatabase(kind);
      drops.push(db.drop);
      const store = await createStore(db.options);
      await expect(
        store.db
          .insertInto('integrations')
          .values({
            environment_id: 42,
            unique_key: 'x',
            provider: 'github',
            display_name: 'x',
            credentials_enc: null,
            forward_webhooks: 1,
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          })
          .execute(),
      ).rejects.toThrow();
      await store.destroy();
    });
  });
}
