import { CompiledQuery, type Compilable } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Store } from './store.js';

/**
 * Compiles a query once and runs it many times with new parameters: hot paths skip Kysely's builder and
 * compiler (tens of microseconds per request). `sentinels` are distinct placeholder values, one per argument,
 * that mark where each argument goes among the compiled parameters. On PostgreSQL the query runs as a named
 * prepared statement (`name`), planned once per connection instead of on every call — keep it to point
 * lookups on indexed columns, whose generic plan is the right one whatever the table size.
 */
export function prepareQuery<A extends unknown[], R>(
  store: Store,
  name: string,
  build: (...args: A) => Compilable<R>,
  sentinels: A,
): (...args: A) => Promise<R[]> {
  const compiled = build(...sentinels).compile();
  const positions = compiled.parameters.map((p) => sentinels.indexOf(p));
  for (let i = 0; i < sentinels.length; i++) {
    if (!positions.includes(i))
      throw new TypeError(`prepareQuery: sentinel ${String(sentinels[i])} does not appear in the query`);
  }
  return async (...args: A) => {
    const parameters = compiled.parameters.map((p, i) => {
      const at = positions[i] ?? -1;
      return at >= 0 ? args[at] : p;
    });
    if (store.pgPool) {
      const result = await store.pgPool.query<R & Record<string, unknown>>({
        name,
        text: compiled.sql,
        values: parameters,
      });
      return result.rows;
    }
    const result = await store.db.executeQuery<R>(CompiledQuery.raw(compiled.sql, parameters));
    return result.rows;
  };
}

/**
 * Wraps a better-sqlite3 database so that `prepare` reuses statements by SQL text (Kysely prepares on every
 * query). Statements are only ever run synchronously to completion, so sharing them is safe.
 *
 * Transactions begin `IMMEDIATE`: the activity log writes from a second connection (its own thread), and a
 * deferred transaction that reads and then writes after that connection committed would fail at once with
 * SQLITE_BUSY instead of waiting for the lock.
 */
export function cachingSqlite(database: BetterSqlite3.Database, max = 256): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return new Proxy(database, {
    get(target, prop, receiver) {
      if (prop === 'prepare') {
        return (text: string) => {
          const source = /^begin$/i.test(text) ? 'begin immediate' : text;
          let stmt = cache.get(source);
          if (!stmt) {
            stmt = target.prepare(source);
            if (cache.size >= max) cache.delete(cache.keys().next().value as string);
            cache.set(source, stmt);
          }
          return stmt;
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
