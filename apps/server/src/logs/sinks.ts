import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CompiledQuery } from 'kysely';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { LogStatements, statementsOf, type LogBatch } from './batch.js';
import type { FromWorker, ToWorker, WorkerData } from './sqliteWorker.js';

/** Where the activity log writer puts its batches: each `write` is one transaction, done when it resolves. */
export interface LogSink {
  write(batch: LogBatch): Promise<void>;
  close(): Promise<void>;
}

/** Writes batches through the store's own connection (PostgreSQL, or SQLite without a file). */
export function storeSink(store: Store): LogSink {
  const sql = new LogStatements(store.dialect);
  return {
    async write(batch) {
      await store.db.transaction().execute(async (trx) => {
        for (const { text, values } of statementsOf(batch, sql))
          await trx.executeQuery(CompiledQuery.raw(text, values));
      });
    },
    async close() {},
  };
}

function startWorker(file: string): Worker {
  const workerData: WorkerData = { file };
  const here = import.meta.url;
  if (!/\.ts(\?|$)/.test(here)) return new Worker(new URL('./sqliteWorker.js', here), { workerData });
  // Running from source (tests): load the TypeScript entry through tsx's require hook.
  const entry = fileURLToPath(new URL('./sqliteWorker.ts', here));
  const tsx = createRequire(entry).resolve('tsx/cjs/api');
  return new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`, {
    eval: true,
    workerData,
  });
}

/**
 * Writes batches on a worker thread with its own connection to the SQLite file, so the SQLite work of the
 * activity log stays off the event loop (on a busy proxy it was the largest cost of a request). Batches are
 * written in the order they are sent. If the thread dies, its unanswered batches and all later ones are
 * written through `fallback` instead.
 */
export class ThreadSink implements LogSink {
  readonly #worker: Worker;
  readonly #fallback: LogSink;
  readonly #logger: Logger;
  readonly #pending = new Map<
    number,
    { batch: LogBatch; resolve: () => void; reject: (err: Error) => void }
  >();
  #seq = 0;
  #dead = false;
  #closing: Promise<void> | undefined;

  constructor(file: string, fallback: LogSink, logger: Logger) {
    this.#fallback = fallback;
    this.#logger = logger;
    this.#worker = startWorker(file);
    this.#worker.unref();
    this.#worker.on('message', (message: FromWorker) => {
      if (message.type !== 'written') return;
      const waiting = this.#pending.get(message.seq);
      this.#pending.delete(message.seq);
      if (message.error === undefined) waiting?.resolve();
      else waiting?.reject(new Error(message.error));
    });
    this.#worker.on('error', (err) => this.#died(err));
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#died(new Error(`the activity log thread exited with code ${code}`));
    });
  }

  #died(err: Error): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#logger.error({ err }, 'activity log thread failed; writing in the main thread from now on');
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) this.#fallback.write(p.batch).then(p.resolve, p.reject);
  }

  write(batch: LogBatch): Promise<void> {
    if (this.#dead || this.#closing) return this.#fallback.write(batch);
    const seq = ++this.#seq;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(seq, { batch, resolve, reject });
      try {
        this.#worker.postMessage({ type: 'write', seq, batch } satisfies ToWorker);
      } catch {
        // Meta that cannot be cloned (a function, say) is sent as JSON would keep it.
        try {
          const plain = JSON.parse(JSON.stringify(batch)) as LogBatch;
          this.#worker.postMessage({ type: 'write', seq, batch: plain } satisfies ToWorker);
        } catch (err) {
          this.#pending.delete(seq);
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
  }

  /** Waits for the batches already sent, then closes the thread's connection and stops it. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#dead) return;
      const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
      // The thread is unref'd while it runs; waiting for its exit must keep the process alive, or a process with
      // nothing else to do exits before the close resolves (node's exit code 13 under a top-level await).
      this.#worker.ref();
      this.#worker.postMessage({ type: 'close' } satisfies ToWorker);
      await exited;
    })();
    return this.#closing;
  }
}

/** The sink for a store: a writer thread for a SQLite file, the store's own connection otherwise. */
export function sinkFor(store: Store, logger: Logger): LogSink {
  const fallback = storeSink(store);
  if (store.dialect !== 'sqlite' || !store.sqliteFile || store.sqliteFile === ':memory:') return fallback;
  return new ThreadSink(store.sqliteFile, fallback, logger);
}
