import { Pool } from 'undici';
import { guardedLookup, type AddressPolicy } from './ssrf.js';
import type { LookupFunction } from './settings.js';

/** Keep-alive undici pools, one per upstream origin, created on first use and reused. */
export class PoolCache {
  readonly #pools = new Map<string, Pool>();
  readonly #lookup: ReturnType<typeof guardedLookup>;
  readonly #connectTimeoutMs: number;
  readonly #maxPools: number;

  constructor(options: {
    policy: AddressPolicy;
    connectTimeoutMs: number;
    lookup?: LookupFunction | undefined;
    maxPools?: number;
  }) {
    this.#lookup = guardedLookup(options.policy, options.lookup);
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#maxPools = options.maxPools ?? 512;
  }

  /** The pool of `origin` (`https://api.example.com`), created when missing. */
  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool) return pool;
    if (this.#pools.size >= this.#maxPools) {
      // Drop the oldest pool; its in-flight requests finish before it closes.
      const [oldest, old] = this.#pools.entries().next().value as [string, Pool];
      this.#pools.delete(oldest);
      void old.close().catch(() => undefined);
    }
    pool = new Pool(origin, {
      connections: 256,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: this.#connectTimeoutMs, lookup: this.#lookup },
      // The engine enforces the overall deadline itself; these only stop a dead socket.
      headersTimeout: 0,
      bodyTimeout: 300_000,
    });
    this.#pools.set(origin, pool);
    return pool;
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}
