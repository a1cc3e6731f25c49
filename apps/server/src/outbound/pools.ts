import { Pool, type buildConnector } from 'undici';
import type { AddressPolicy } from './addressPolicy.js';
import { guardedConnector, type LookupFunction } from './guard.js';

/**
 * Keep-alive undici pools, one per upstream origin, created on first use and reused. Every socket they
 * open goes through the guarded connector (the address policy, after DNS).
 */
export class PoolCache {
  readonly #pools = new Map<string, Pool>();
  readonly #connect: buildConnector.connector;
  readonly #maxPools: number;

  constructor(options: {
    policy: AddressPolicy;
    connectTimeoutMs: number;
    lookup?: LookupFunction | undefined;
    maxPools?: number;
  }) {
    this.#connect = guardedConnector(options);
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
      connect: this.#connect,
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
