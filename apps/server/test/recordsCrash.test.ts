import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { createEncryptor } from '../src/crypto/encryption.js';
import { RecordsService } from '../src/records/service.js';
import { createStore } from '../src/store/store.js';
import { databases, tempDatabase } from './harness.js';

const writer = fileURLToPath(new URL('./recordsWriter.ts', import.meta.url));

for (const kind of databases) {
  it(`kill -9 during large batchSaves leaves every batch whole or absent, and the feed without gaps [${kind}]`, async () => {
    const db = await tempDatabase(kind);
    try {
      // Created here first so the child does not race the migrations of another test process.
      await (await createStore(db.options)).destroy();
      const child = spawn(
        process.execPath,
        ['--conditions=source', '--import', 'tsx', writer, JSON.stringify(db.options)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let committed = 0;
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          committed = Math.max(
            committed,
            ...[...d.toString().matchAll(/batch (\d+)/g)].map((m) => Number(m[1]) + 1),
          );
          // Killed at a random moment once a few batches are in: most likely in the middle of one.
          if (committed >= 3) setTimeout(() => resolve(), Math.floor(Math.random() * 15));
        });
        child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      const store = await createStore(db.options);
      const svc = new RecordsService({
        store,
        encryptor: createEncryptor(randomBytes(32).toString('base64')),
      });
      const feed = await svc.feed({ environmentId: 1, connectionRowId: 1 }, 'Item');
      const rows = await store.db
        .selectFrom('records')
        .select(['external_id', 'cursor'])
        .where('feed_id', '=', feed!)
        .orderBy('cursor')
        .execute();
      const perBatch = new Map<number, number>();
      for (const r of rows) {
        const b = Number(r.external_id.split('-')[0]);
        perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
      }
      expect([...perBatch.values()].every((n) => n === 1000)).toBe(true);
      expect(perBatch.size).toBeGreaterThanOrEqual(committed);
      // Inserts only: the cursors are exactly 1..n, and the feed's counter is n.
      expect(rows.map((r) => Number(r.cursor))).toEqual(rows.map((_, i) => i + 1));
      expect(await svc.lastCursor(feed!)).toBe(rows.length);
      // and the feed keeps going after the restart
      await svc.save(feed!, 'Item', [{ id: 'after-restart' }]);
      expect(await svc.lastCursor(feed!)).toBe(rows.length + 1);
      await store.destroy();
    } finally {
      await db.drop();
    }
  }, 60_000);
}
