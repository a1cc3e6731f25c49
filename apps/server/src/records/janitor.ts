import type { Logger } from '../logger.js';
import type { RecordsService } from './service.js';

const DAY_MS = 86_400_000;

/**
 * The records' background work, one pass at a time: removes records deleted more than the retention period ago,
 * and the records of deleted connections (a connection or integration delete only removes the connection row and
 * kicks a pass, so the request never waits for its records). Every server runs it; passes are idempotent.
 */
export class RecordsJanitor {
  readonly #records: RecordsService;
  readonly #logger: Logger;
  readonly #retentionMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(opts: { records: RecordsService; logger: Logger; deletedRetentionDays: number }) {
    this.#records = opts.records;
    this.#logger = opts.logger;
    this.#retentionMs = opts.deletedRetentionDays * DAY_MS;
  }

  /** Runs a pass every `intervalMs` (and one soon after start). */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => this.kick(), intervalMs);
    this.#timer.unref();
    setTimeout(() => this.kick(), 1_000).unref();
  }

  /** Starts a pass now, or another one right after the running pass. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops the timer and waits for the running pass. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.idle();
  }

  async #pass(): Promise<void> {
    try {
      const orphans = await this.#records.dropOrphans();
      const expired = await this.#records.purgeDeleted(new Date(Date.now() - this.#retentionMs));
      if (orphans + expired > 0)
        this.#logger.info(
          { orphans, expired },
          'records: removed records of deleted connections and past retention',
        );
    } catch (err) {
      this.#logger.error({ err }, 'records: background clean-up failed');
    }
  }
}
