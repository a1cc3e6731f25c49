import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../logger.js';
import { ensureEnvironments } from '../environments/service.js';
import { createStore, type Store } from '../store/store.js';
import { databases, tempDatabase } from '../../test/harness.js';
import { ActivityLogService } from './service.js';
import { ActivityLogWriter } from './writer.js';
import { describe } from 'vitest';

for (const kind of databases) {
  describe(`activity log writer [${kind}]`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const db = await tempDatabase(kind);
      drop = db.drop;
      store = await createStore(db.options);
      await ensureEnvironments(store);
    });
    afterAll(async () => {
      await store.destroy();
      await drop();
    });

    it('queues in memory and writes nothing until a flush, then everything in order', async () => {
      const writer = new ActivityLogWriter(store, createLogger({ level: 'silent' }), {
        intervalMs: 60_000,
        maxBatch: 10_000,
      });
      onTestFinished(() => writer.close());
      const op = writer.start({
        environmentId: 1,
        kind: 'proxy',
        name: 'GET /x',
        connectionId: 'c1',
        meta: { a: 1 },
      });
      for (let i = 0; i < 300; i++) op.log('info', `line ${i}`);
      op.end('success', { status: 200 });
      op.end('failed'); // a second end is ignored
      expect(await store.db.selectFrom('operations').selectAll().execute()).toHaveLength(0);
      await writer.flush();
      const service = new ActivityLogService(store, writer);
      const got = await service.getOperation({ id: 1, name: 'dev' }, op.id);
      expect(got).toMatchObject({ status: 'success', meta: { a: 1, status: 200 }, connection_id: 'c1' });
      const page1 = await service.listMessages({ id: 1, name: 'dev' }, op.id, { limit: 200 });
      expect(page1.data[0]?.message).toBe('line 0');
      const page2 = await service.listMessages({ id: 1, name: 'dev' }, op.id, {
        limit: 200,
        cursor: page1.next_cursor ?? '',
      });
      expect(page2.data.at(-1)?.message).toBe('line 299');
      expect(page2.next_cursor).toBeNull();
    });

    it('stores NUL and lone surrogates from providers and scripts as U+FFFD, alike on both databases', async () => {
      const writer = new ActivityLogWriter(store, createLogger({ level: 'silent' }), {
        intervalMs: 60_000,
        maxBatch: 10_000,
      });
      onTestFinished(() => writer.close());
      const op = writer.start({
        environmentId: 1,
        kind: 'proxy',
        name: 'GET /nul',
        meta: { sent: 'a\u0000b' },
      });
      op.log('error', 'provider said: bad\u0000token \ud800', { body: { 'k\u0000': 'v\udfff' } });
      op.log('info', 'after');
      op.end('failed', { reason: '\u0000' });
      await writer.flush();
      const service = new ActivityLogService(store, writer);
      const got = await service.getOperation({ id: 1, name: 'dev' }, op.id);
      expect(got).toMatchObject({ status: 'failed', meta: { sent: 'a\ufffdb', reason: '\ufffd' } });
      const { data } = await service.listMessages({ id: 1, name: 'dev' }, op.id, { limit: 10 });
      expect(data.map((m) => m.message)).toEqual(['provider said: bad\ufffdtoken \ufffd', 'after']);
      expect(data[0]?.meta).toEqual({ body: { 'k\ufffd': 'v\ufffd' } });
    });

    it('flushes by itself when the batch fills, and truncates huge messages', async () => {
      const writer = new ActivityLogWriter(store, createLogger({ level: 'silent' }), {
        intervalMs: 60_000,
        maxBatch: 5,
      });
      onTestFinished(() => writer.close());
      const op = writer.start({ environmentId: 1, kind: 'sync', name: 'batch' });
      op.log('warn', 'x'.repeat(200_000));
      for (let i = 0; i < 4; i++) op.log('debug', 'y');
      await writer.flush();
      const rows = await store.db
        .selectFrom('operation_messages')
        .selectAll()
        .where('operation_id', '=', op.id)
        .execute();
      expect(rows).toHaveLength(5);
      expect(rows[0]?.message.length).toBeLessThan(70_000);
      expect(rows[0]?.message).toContain('[truncated]');
    });

    it('never throws into the caller when the database fails', async () => {
      const lines: string[] = [];
      const { Writable } = await import('node:stream');
      const logger = createLogger({
        level: 'error',
        destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }),
      });
      const writer = new ActivityLogWriter(store, logger, { intervalMs: 60_000 });
      onTestFinished(() => writer.close());
      writer.start({ environmentId: 999_999, kind: 'admin', name: 'no such environment' }); // foreign key fails
      await expect(writer.flush()).resolves.toBeUndefined();
      expect(lines.join('')).toContain('activity log write failed');
    });
  });
}
