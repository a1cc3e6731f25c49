import type { Store } from '../store/store.js';

/**
 * Records when connections were last read without a write per read: ids are collected in memory and written
 * in one UPDATE per flush (every `intervalMs`), so reading credentials costs one query, not a query and a write.
 */
export class LastFetchedTracker {
  readonly #store: Store;
  readonly #intervalMs: number;
  #pending = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(store: Store, intervalMs = 1000) {
    this.#store = store;
    this.#intervalMs = intervalMs;
  }

  /** Notes that a connection was read now. */
  touch(id: number): void {
    this.#pending.add(id);
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Writes what was noted so far. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return this.#writing;
    const ids = [...this.#pending];
    this.#pending = new Set();
    const at = new Date().toISOString();
    this.#writing = this.#writing.then(async () => {
      for (let i = 0; i < ids.length; i += 500) {
        await this.#store.db
          .updateTable('connections')
          .set({ last_fetched_at: at })
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()
          .catch(() => undefined);
      }
    });
    return this.#writing;
  }
}
