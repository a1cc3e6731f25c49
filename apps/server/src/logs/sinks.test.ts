import { once } from 'node:events';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { databases, tempDatabase } from '../../test/harness.js';
import { ensureEnvironments } from '../environments/service.js';
import { createLogger, type Logger } from '../logger.js';
import { createStore, type Store } from '../store/store.js';
import { fromJson, toIso } from '../store/values.js';
import type { LogBatch, OperationRow } from './batch.js';
import { sinkFor, storeSink, ThreadSink } from './sinks.js';
import type { ToWorker } from './sqliteWorker.js';
import { uuidv7 } from './uuidv7.js';
import { ActivityLogWriter } from './writer.js';

/** Every message posted to a worker thread, with the worker it went to. */
const posted = vi.spyOn(Worker.prototype, 'postMessage');

/** The `write` messages posted to writer threads since `from` (an index into the spy's calls). */
function threadWrites(from = 0): { worker: Worker; seq: number }[] {
  const out: { worker: Worker; seq: number }[] = [];
  posted.mock.calls.forEach(([message], i) => {
    const m = message as ToWorker | undefined;
    if (i >= from && m?.type === 'write') out.push({ worker: posted.mock.contexts[i] as Worker, seq: m.seq });
  });
  return out;
}

/** A logger that keeps its lines (errors only). */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level: 'error', destination }), lines };
}

type StoreKind = 'sqlite-file' | 'sqlite-memory' | 'postgres';
const storeKinds: StoreKind[] = [
  'sqlite-file',
  'sqlite-memory',
  ...(databases.includes('postgres') ? ['postgres' as const] : []),
];

async function openStore(kind: StoreKind): Promise<{ store: Store; drop(): Promise<void> }> {
  if (kind === 'sqlite-memory') {
    const store = await createStore({ kind: 'sqlite', file: ':memory:' });
    await ensureEnvironments(store);
    return { store, drop: async () => undefined };
  }
  const db = await tempDatabase(kind === 'postgres' ? 'postgres' : 'sqlite');
  const store = await createStore(db.options);
  await ensureEnvironments(store);
  return { store, drop: db.drop };
}

/** One operation as the main connection reads it. */
async function readOperation(store: Store, id: string) {
  const r = await store.db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return undefined;
  return {
    status: r.status,
    started_at: toIso(r.started_at),
    ended_at: toIso(r.ended_at),
    meta: fromJson<Record<string, unknown> | null>(r.meta),
  };
}

async function readMessages(store: Store, operationId: string) {
  const rows = await store.db
    .selectFrom('operation_messages')
    .selectAll()
    .where('operation_id', '=', operationId)
    .orderBy('id', 'asc')
    .execute();
  return rows.map((m) => ({ message: m.message, meta: fromJson<Record<string, unknown> | null>(m.meta) }));
}

async function countOperations(store: Store, name: string): Promise<number> {
  const r = await store.db
    .selectFrom('operations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A batch of one finished operation named `name`. */
function oneOperation(name: string): LogBatch {
  const now = Date.now();
  const row: OperationRow = [uuidv7(), 1, 'admin', name, 'success', null, null, now, now, { name }];
  return { operations: [row], messages: [], ends: [] };
}

const silent = createLogger({ level: 'silent' });

describe('sinkFor', () => {
  it.each(storeKinds)('%s', async (kind) => {
    const { store, drop } = await openStore(kind);
    onTestFinished(async () => {
      await store.destroy();
      await drop();
    });
    const sink = sinkFor(store, silent);
    onTestFinished(() => sink.close());
    expect(sink instanceof ThreadSink).toBe(kind === 'sqlite-file');
  });
});

describe('the activity log through the SQLite writer thread', () => {
  let store: Store;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ store, drop } = await openStore('sqlite-file'));
  });
  afterAll(async () => {
    await store.destroy();
    await drop();
  });

  /** A writer that flushes only when told to, and its error lines. */
  function manualWriter(): { writer: ActivityLogWriter; errors: string[] } {
    const { logger, lines } = capturingLogger();
    const writer = new ActivityLogWriter(store, logger, { intervalMs: 60_000, maxBatch: 1_000_000 });
    onTestFinished(() => writer.close());
    return { writer, errors: lines };
  }

  it('ends an operation inserted by an earlier flush, keeping its messages in order', async () => {
    const from = posted.mock.calls.length;
    const { writer, errors } = manualWriter();
    const op = writer.start({ environmentId: 1, kind: 'sync', name: 'two flushes', meta: { a: 1 } });
    const quiet = writer.start({ environmentId: 1, kind: 'sync', name: 'ends without meta', meta: { b: 2 } });
    for (let i = 0; i < 3; i++) op.log('info', `m${i}`, { i });
    await writer.flush();
    expect(await readOperation(store, op.id)).toMatchObject({
      status: 'running',
      ended_at: null,
      meta: { a: 1 },
    });
    for (let i = 3; i < 6; i++) op.log('info', `m${i}`, { i });
    op.end('failed', { status: 500 });
    quiet.end('success');
    await writer.flush();
    const row = await readOperation(store, op.id);
    expect(row).toMatchObject({ status: 'failed', meta: { a: 1, status: 500 } });
    expect(row?.ended_at).not.toBeNull();
    expect(Date.parse(row?.ended_at ?? '')).toBeGreaterThanOrEqual(Date.parse(row?.started_at ?? ''));
    // An end without meta keeps the meta the operation started with.
    expect(await readOperation(store, quiet.id)).toMatchObject({ status: 'success', meta: { b: 2 } });
    expect(await readMessages(store, op.id)).toEqual(
      Array.from({ length: 6 }, (_, i) => ({ message: `m${i}`, meta: { i } })),
    );
    // Both flushes went to the thread, and nothing failed on the way.
    expect(threadWrites(from)).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('resolves a flush only once its rows are readable on the main connection', async () => {
    const from = posted.mock.calls.length;
    const { writer, errors } = manualWriter();
    const name = `readable-${Date.now()}`;
    for (let round = 1; round <= 5; round++) {
      const now = Date.now();
      for (let i = 0; i < 3000; i++)
        writer.record({ environmentId: 1, kind: 'proxy', name, meta: { i } }, 'success', { i, round }, now);
      await writer.flush();
      expect(await countOperations(store, name)).toBe(round * 3000);
    }
    expect(threadWrites(from)).toHaveLength(5);
    expect(errors).toEqual([]);
  });

  it('keeps the main connection writing while the thread writes 20,000 operations (no SQLITE_BUSY)', async () => {
    const from = posted.mock.calls.length;
    const { logger, lines: errors } = capturingLogger();
    // Flushes by itself every 1,000 entries, while the transactions below run. (With deferred transactions,
    // as before BEGIN IMMEDIATE, about half of them fail with SQLITE_BUSY here.)
    const writer = new ActivityLogWriter(store, logger, { intervalMs: 60_000, maxBatch: 1000 });
    onTestFinished(() => writer.close());
    const name = `busy-${Date.now()}`;
    // The thread is up before the race starts.
    writer.record({ environmentId: 1, kind: 'proxy', name: `${name}-warm` }, 'success', {}, Date.now());
    await writer.flush();
    const failures: unknown[] = [];
    for (let t = 0; t < 100; t++) {
      for (let i = 0; i < 200; i++)
        writer.record({ environmentId: 1, kind: 'proxy', name }, 'success', { t, i }, Date.now());
      try {
        await store.db.transaction().execute(async (trx) => {
          // A read first: a deferred transaction takes its snapshot here and could not write once the
          // thread committed in the meantime.
          await trx
            .selectFrom('operations')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('name', '=', name)
            .executeTakeFirstOrThrow();
          await delay(1);
          const now = new Date().toISOString();
          await trx
            .insertInto('operations')
            .values({
              id: uuidv7(),
              environment_id: 1,
              kind: 'admin',
              name: `${name}-main`,
              status: 'success',
              integration: null,
              connection_id: null,
              started_at: now,
              ended_at: now,
              meta: null,
            })
            .execute();
        });
      } catch (err) {
        failures.push(err);
      }
    }
    await writer.flush();
    expect(failures.map((e) => String(e))).toEqual([]);
    expect(await countOperations(store, name)).toBe(20_000);
    expect(await countOperations(store, `${name}-main`)).toBe(100);
    expect(threadWrites(from).length).toBeGreaterThanOrEqual(20);
    expect(errors).toEqual([]);
  });

  it('falls back to the store when the thread cannot open its database, and says so once', async () => {
    const { logger, lines } = capturingLogger();
    const from = posted.mock.calls.length;
    const sink = new ThreadSink('/nonexistent-dir/x/y.db', storeSink(store), logger);
    onTestFinished(() => sink.close());
    const first = oneOperation(`fallback-${Date.now()}`);
    await sink.write(first);
    expect(await readOperation(store, first.operations[0]?.[0] ?? '')).toMatchObject({ status: 'success' });
    const [sent] = threadWrites(from);
    const worker = sent?.worker;
    expect(worker).toBeDefined();
    if (worker && worker.threadId !== -1) await once(worker, 'exit');
    // Later batches skip the dead thread.
    const second = oneOperation(`fallback-again-${Date.now()}`);
    await sink.write(second);
    expect(await readOperation(store, second.operations[0]?.[0] ?? '')).toMatchObject({ status: 'success' });
    expect(threadWrites(from)).toHaveLength(1);
    const failed = lines.filter((l) => l.includes('activity log thread failed'));
    expect(failed).toHaveLength(1);
    await expect(sink.close()).resolves.toBeUndefined();
  });

  it('writes the unanswered batches of a thread that exits through the fallback', async () => {
    const { logger, lines } = capturingLogger();
    const from = posted.mock.calls.length;
    const sink = new ThreadSink(store.sqliteFile ?? '', storeSink(store), logger);
    onTestFinished(() => sink.close());
    const batch = oneOperation(`exited-${Date.now()}`);
    const written = sink.write(batch);
    const [sent] = threadWrites(from);
    // Stopped before it could have loaded (it takes a while to start from source).
    await sent?.worker.terminate();
    await written;
    expect(await readOperation(store, batch.operations[0]?.[0] ?? '')).toMatchObject({ status: 'success' });
    expect(lines.filter((l) => l.includes('activity log thread failed'))).toHaveLength(1);
  });

  it('stops the thread on close; entries after close are dropped', async () => {
    const from = posted.mock.calls.length;
    const { writer, errors } = manualWriter();
    const before = writer.start({ environmentId: 1, kind: 'admin', name: `before-close-${Date.now()}` });
    before.end('success');
    await writer.flush();
    const [sent] = threadWrites(from);
    expect(sent?.worker.threadId).toBeGreaterThan(0);
    await expect(writer.close()).resolves.toBeUndefined();
    expect(sent?.worker.threadId).toBe(-1); // exited
    const after = writer.start({ environmentId: 1, kind: 'admin', name: 'after close' });
    after.end('success');
    await writer.flush();
    expect(await readOperation(store, after.id)).toBeUndefined();
    expect(await readOperation(store, before.id)).toMatchObject({ status: 'success' });
    await expect(writer.close()).resolves.toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('sends batches written after its close through the fallback', async () => {
    const sink = new ThreadSink(store.sqliteFile ?? '', storeSink(store), silent);
    const from = posted.mock.calls.length;
    await sink.close();
    const batch = oneOperation(`after-sink-close-${Date.now()}`);
    await sink.write(batch);
    expect(await readOperation(store, batch.operations[0]?.[0] ?? '')).toMatchObject({ status: 'success' });
    expect(threadWrites(from)).toHaveLength(0);
  });
});

for (const kind of storeKinds) {
  describe(`meta that cannot be cloned [${kind}]`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ store, drop } = await openStore(kind));
    });
    afterAll(async () => {
      await store.destroy();
      await drop();
    });

    it('is written as JSON would write it: functions dropped, dates as ISO text', async () => {
      const { logger, lines } = capturingLogger();
      const writer = new ActivityLogWriter(store, logger, { intervalMs: 60_000, maxBatch: 1_000_000 });
      onTestFinished(() => writer.close());
      const when = new Date('2026-01-02T03:04:05.678Z');
      const callback = () => 'never stored';
      const op = writer.start({
        environmentId: 1,
        kind: 'sync',
        name: 'uncloneable',
        meta: { n: 1, when, callback },
      });
      op.log('info', 'with a function', { when, nested: { callback, ok: true } });
      const recorded = writer.record(
        { environmentId: 1, kind: 'proxy', name: 'uncloneable record' },
        'success',
        { when, callback },
        Date.now(),
      );
      // Only a Date: this one can be cloned as it is.
      const dated = writer.record(
        { environmentId: 1, kind: 'proxy', name: 'cloneable record' },
        'success',
        { when },
        Date.now(),
      );
      await writer.flush();
      op.end('success', { done: when, callback });
      await writer.flush();
      const iso = when.toISOString();
      expect(await readOperation(store, op.id)).toMatchObject({
        status: 'success',
        meta: { n: 1, when: iso, done: iso },
      });
      expect((await readOperation(store, op.id))?.meta).not.toHaveProperty('callback');
      expect(await readMessages(store, op.id)).toEqual([
        { message: 'with a function', meta: { when: iso, nested: { ok: true } } },
      ]);
      expect((await readOperation(store, recorded))?.meta).toEqual({ when: iso });
      expect((await readOperation(store, dated))?.meta).toEqual({ when: iso });
      expect(lines.join('')).not.toContain('activity log write failed');
      expect(lines).toEqual([]);
    });

    // Structured cloning (the writer thread's way in) would keep a URL, a Buffer or a class instance as a bag
    // of own fields and lose its toJSON: such meta must reach the row as JSON.stringify writes it.
    it('honours toJSON as JSON.stringify does', async () => {
      const writer = new ActivityLogWriter(store, silent, { intervalMs: 60_000, maxBatch: 1_000_000 });
      onTestFinished(() => writer.close());
      class Money {
        constructor(readonly cents: number) {}
        toJSON(): string {
          return `${(this.cents / 100).toFixed(2)} EUR`;
        }
      }
      const meta = {
        url: new URL('https://api.example.com/v1?x=1'),
        bytes: Buffer.from('hi'),
        price: new Money(150),
      };
      const id = writer.record(
        { environmentId: 1, kind: 'proxy', name: 'toJSON' },
        'success',
        meta,
        Date.now(),
      );
      await writer.flush();
      expect((await readOperation(store, id))?.meta).toEqual(JSON.parse(JSON.stringify(meta)));
    });
  });
}
