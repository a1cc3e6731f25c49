import type { LogLevel, OperationKind, OperationStatus } from '@ferry/types';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { metaOf, type LogBatch } from './batch.js';
import { sinkFor, type LogSink } from './sinks.js';
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
      at: number;
      /** Set when the operation was recorded already ended ({@link ActivityLogWriter.record}). */
      done?: { status: OperationStatus; meta: Record<string, unknown> | undefined; at: number };
    }
  | {
      t: 'msg';
      opId: string;
      level: LogLevel;
      message: string;
      meta: Record<string, unknown> | undefined;
      at: number;
    }
  | { t: 'end'; id: string; status: OperationStatus; meta: Record<string, unknown> | undefined; at: number };

const MAX_MESSAGE_LENGTH = 64 * 1024;

/**
 * The activity log writer. Calls only queue work in memory and return at once; the queue is written in one
 * transaction per flush (every `intervalMs`, or sooner when `maxBatch` entries wait), so logging never slows the
 * request that logs. On a SQLite file the transaction runs on a writer thread ({@link sinkFor}).
 */
export class ActivityLogWriter {
  readonly #sink: LogSink;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(store: Store, logger: Logger, options: { intervalMs?: number; maxBatch?: number } = {}) {
    this.#sink = sinkFor(store, logger);
    this.#logger = logger;
    this.#intervalMs = options.intervalMs ?? 50;
    this.#maxBatch = options.maxBatch ?? 500;
  }

  /** Starts an operation and returns its handle. */
  start(start: OperationStart): OperationHandle {
    const id = uuidv7();
    this.#push({ t: 'op', id, start, at: Date.now() });
    let ended = false;
    return {
      id,
      log: (level, message, meta) => {
        const text =
          message.length > MAX_MESSAGE_LENGTH
            ? `${message.slice(0, MAX_MESSAGE_LENGTH)}… [truncated]`
            : message;
        this.#push({ t: 'msg', opId: id, level, message: text, meta, at: Date.now() });
      },
      end: (status, meta) => {
        if (ended) return;
        ended = true;
        const merged = meta && start.meta ? { ...start.meta, ...meta } : meta;
        this.#push({ t: 'end', id, status, meta: merged, at: Date.now() });
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
    const done = { status, meta, at: Date.now() };
    this.#push({ t: 'op', id, start, at: startedAt, done });
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

  /** Flushes, stops accepting entries and stops the writer thread, if any. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#sink.close();
  }

  /** The rows of a batch of queued entries. */
  #rows(batch: Pending[]): LogBatch {
    // An operation that starts and ends within one batch (a proxied request) is inserted finished:
    // one row in a multi-row insert instead of an insert and an update.
    const endOf = new Map<string, Extract<Pending, { t: 'end' }>>();
    for (const e of batch) if (e.t === 'end') endOf.set(e.id, e);
    const out: LogBatch = { operations: [], messages: [], ends: [] };
    const started = new Set<string>();
    for (const e of batch) {
      if (e.t === 'op') {
        started.add(e.id);
        const end = e.done ?? endOf.get(e.id);
        out.operations.push([
          e.id,
          e.start.environmentId,
          e.start.kind,
          e.start.name,
          end?.status ?? 'running',
          e.start.integration ?? null,
          e.start.connectionId ?? null,
          e.at,
          end?.at ?? null,
          metaOf(end?.meta ?? e.start.meta),
        ]);
      } else if (e.t === 'msg') out.messages.push([e.opId, e.level, e.message, metaOf(e.meta), e.at]);
    }
    for (const e of endOf.values())
      if (!started.has(e.id)) out.ends.push([e.id, e.status, e.at, metaOf(e.meta)]);
    return out;
  }

  async #write(batch: Pending[]): Promise<void> {
    try {
      await this.#sink.write(this.#rows(batch));
    } catch (err) {
      this.#logger.error({ err, entries: batch.length }, 'activity log write failed');
    }
  }
}
