import type { LogLevel, OperationKind, OperationStatus } from '@ferry/types';
import { CompiledQuery } from 'kysely';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { toJson } from '../store/values.js';
import { uuidv7 } from './uuidv7.js';

/** What starts an operation in the activity log. */
export interface OperationStart {
  environmentId: number;
  kind: OperationKind;
  name: string;
  integration?: string | null;
  connectionId?: string | null;
  meta?: Record<string, unknown> | null;
}

/** A handle on a running operation: add messages, then end it once. */
export interface OperationHandle {
  readonly id: string;
  log(level: LogLevel, message: string, meta?: Record<string, unknown>): void;
  end(status: Exclude<OperationStatus, 'running'>, meta?: Record<string, unknown>): void;
}

type Pending =
  | {
      t: 'op';
      id: string;
      start: OperationStart;
      at: string;
      /** Set when the operation was recorded already ended ({@link ActivityLogWriter.record}). */
      done?: { status: OperationStatus; meta: Record<string, unknown> | undefined; at: string };
    }
  | {
      t: 'msg';
      opId: string;
      level: LogLevel;
      message: string;
      meta: Record<string, unknown> | undefined;
      at: string;
    }
  | { t: 'end'; id: string; status: OperationStatus; meta: Record<string, unknown> | undefined; at: string };

const MAX_MESSAGE_LENGTH = 64 * 1024;
/** Operations per insert statement (10 parameters each; SQLite and PostgreSQL both take 1,000 easily). */
const OPS_PER_INSERT = 100;

/**
 * The activity log writer. Calls only queue work in memory and return at once; the queue is written in one
 * transaction per flush (every `intervalMs`, or sooner when `maxBatch` entries wait), so logging never slows the
 * request that logs.
 */
export class ActivityLogWriter {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #insertCache = new Map<number, string>();

  constructor(store: Store, logger: Logger, options: { intervalMs?: number; maxBatch?: number } = {}) {
    this.#store = store;
    this.#logger = logger;
    this.#intervalMs = options.intervalMs ?? 50;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  /** Starts an operation and returns its handle. */
  start(start: OperationStart): OperationHandle {
    const id = uuidv7();
    this.#push({ t: 'op', id, start, at: new Date().toISOString() });
    let ended = false;
    return {
      id,
      log: (level, message, meta) => {
        const text =
          message.length > MAX_MESSAGE_LENGTH
            ? `${message.slice(0, MAX_MESSAGE_LENGTH)}… [truncated]`
            : message;
        this.#push({ t: 'msg', opId: id, level, message: text, meta, at: new Date().toISOString() });
      },
      end: (status, meta) => {
        if (ended) return;
        ended = true;
        const merged = meta && start.meta ? { ...start.meta, ...meta } : meta;
        this.#push({ t: 'end', id, status, meta: merged, at: new Date().toISOString() });
      },
    };
  }

  /**
   * Records an operation that has already ended, in one entry (one row): cheaper than `start` + `end` for
   * short operations without messages, such as one proxied request.
   * @param startedAt - When it started (epoch milliseconds).
   * @returns The operation's id.
   */
  record(
    start: OperationStart,
    status: Exclude<OperationStatus, 'running'>,
    meta: Record<string, unknown> | undefined,
    startedAt: number,
  ): string {
    const id = uuidv7();
    const done = { status, meta, at: new Date().toISOString() };
    this.#push({ t: 'op', id, start, at: new Date(startedAt).toISOString(), done });
    return id;
  }

  #push(entry: Pending): void {
    if (this.#closed) return;
    this.#queue.push(entry);
    if (this.#queue.length >= this.#maxBatch) {
      void this.flush();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Writes everything queued so far; resolves when it is in the database. */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#flushing = this.#flushing.then(() => (batch.length > 0 ? this.#write(batch) : undefined));
    return this.#flushing;
  }

  /** Flushes and stops accepting entries. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  /**
   * `insert into operations … values (…), (…)` for `n` rows, written by hand: Kysely's builder costs tens of
   * microseconds per row, which a busy proxy (one operation per request) would pay on every request.
   */
  #insertSql(n: number): string {
    let sql = this.#insertCache.get(n);
    if (sql) return sql;
    const pg = this.#store.dialect === 'postgres';
    const rows: string[] = [];
    for (let r = 0; r < n; r++) {
      const cells = Array.from({ length: 10 }, (_, c) => (pg ? `$${r * 10 + c + 1}` : '?'));
      rows.push(`(${cells.join(', ')})`);
    }
    sql = `insert into operations (id, environment_id, kind, name, status, integration, connection_id, started_at, ended_at, meta) values ${rows.join(', ')}`;
    this.#insertCache.set(n, sql);
    return sql;
  }

  async #write(batch: Pending[]): Promise<void> {
    const ops = batch.filter((e): e is Extract<Pending, { t: 'op' }> => e.t === 'op');
    const msgs = batch.filter((e): e is Extract<Pending, { t: 'msg' }> => e.t === 'msg');
    // An operation that starts and ends within one batch (a proxied request) is inserted finished:
    // one row in a multi-row insert instead of an insert and an update.
    const endOf = new Map<string, Extract<Pending, { t: 'end' }>>();
    for (const e of batch) if (e.t === 'end') endOf.set(e.id, e);
    const started = new Set(ops.map((o) => o.id));
    const ends = [...endOf.values()].filter((e) => !started.has(e.id));
    try {
      await this.#store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < ops.length; i += OPS_PER_INSERT) {
          const rows = ops.slice(i, i + OPS_PER_INSERT).map((o) => {
            const end = o.done ?? endOf.get(o.id);
            return [
              o.id,
              o.start.environmentId,
              o.start.kind,
              o.start.name,
              end?.status ?? 'running',
              o.start.integration ?? null,
              o.start.connectionId ?? null,
              o.at,
              end?.at ?? null,
              toJson(end?.meta ?? o.start.meta),
            ];
          });
          await trx.executeQuery(CompiledQuery.raw(this.#insertSql(rows.length), rows.flat()));
        }
        for (let i = 0; i < msgs.length; i += 200) {
          await trx
            .insertInto('operation_messages')
            .values(
              msgs.slice(i, i + 200).map((m) => ({
                operation_id: m.opId,
                level: m.level,
                message: m.message,
                meta: toJson(m.meta),
                created_at: m.at,
              })),
            )
            .execute();
        }
        for (const e of ends) {
          const set: { status: string; ended_at: string; meta?: string | null } = {
            status: e.status,
            ended_at: e.at,
          };
          if (e.meta) set.meta = toJson(e.meta);
          await trx.updateTable('operations').set(set).where('id', '=', e.id).execute();
        }
      });
    } catch (err) {
      this.#logger.error({ err, entries: batch.length }, 'activity log write failed');
    }
  }
}
