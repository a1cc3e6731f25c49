import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrationProvider } from './migrations.js';
import { cachingSqlite } from './prepared.js';
import type { Database as Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** The store: one Kysely instance over SQLite or PostgreSQL, migrated. */
export interface Store {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** The pg pool behind Kysely on PostgreSQL, for the few hot queries that run as named statements. */
  readonly pgPool: pg.Pool | undefined;
  /**
   * The better-sqlite3 handle behind Kysely on SQLite (statements cached by SQL text), for the records store's
   * synchronous batches. Use it only inside `db.connection().execute(…)`, which holds Kysely's connection mutex.
   */
  readonly sqlite: Database.Database | undefined;
  /** The SQLite database file (`:memory:` for a private in-memory one); undefined on PostgreSQL. */
  readonly sqliteFile: string | undefined;
  destroy(): Promise<void>;
}

/** Where the store lives. */
export type StoreOptions =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string; schema?: string; maxConnections?: number };

// pg: keep bigint counts as numbers (they are small here) and timestamptz as Date.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

function openSqlite(file: string): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  return cachingSqlite(database);
}

/** A PostgreSQL "schema … does not exist" (3F000) naming a schema that is not ours. */
function isOtherSchemaDropped(error: unknown, ours: string | undefined): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return (
    ours !== undefined &&
    e?.code === '3F000' &&
    typeof e.message === 'string' &&
    !e.message.includes(`"${ours}"`)
  );
}

function postgresPool(opts: { url: string; schema?: string; maxConnections?: number }): pg.Pool {
  return new pg.Pool({
    connectionString: opts.url,
    max: opts.maxConnections ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
}

/**
 * Opens the store and applies pending migrations.
 * @throws when the database cannot be reached or a migration fails.
 */
export async function createStore(opts: StoreOptions): Promise<Store> {
  const dialect: Dialect = opts.kind;
  const pgPool = opts.kind === 'postgres' ? postgresPool(opts) : undefined;
  const sqlite = opts.kind === 'sqlite' ? openSqlite(opts.file) : undefined;
  const db = new Kysely<Schema>({
    dialect: sqlite
      ? new SqliteDialect({ database: sqlite })
      : new PostgresDialect({ pool: pgPool as pg.Pool }),
  });
  try {
    if (opts.kind === 'postgres' && opts.schema) {
      await sql`create schema if not exists ${sql.id(opts.schema)}`.execute(db);
    }
    // On PostgreSQL, name the schema of the migration tables explicitly: Kysely otherwise looks for them in
    // every schema and can mistake another schema's tables for ours.
    let migrationTableSchema: string | undefined;
    if (opts.kind === 'postgres') {
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
      migrationTableSchema = rows[0]?.schema ?? undefined;
      if (!migrationTableSchema) throw new Error('the PostgreSQL search_path names no existing schema');
    }
    const migrator = new Migrator({
      db,
      provider: migrationProvider(dialect),
      ...(migrationTableSchema ? { migrationTableSchema } : {}),
    });
    let { error, results } = await migrator.migrateToLatest();
    // Kysely's migrator looks for its tables with a catalog query over every schema (pg_get_serial_sequence,
    // has_schema_privilege by name): another schema dropped at that moment (another tenant, a test) fails it with
    // invalid_schema_name. Nothing has been applied then; try again.
    for (let attempt = 0; attempt < 5 && isOtherSchemaDropped(error, migrationTableSchema); attempt++)
      ({ error, results } = await migrator.migrateToLatest());
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(
        `migration ${failed?.migrationName ?? '?'} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
        { cause: error },
      );
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    db,
    dialect,
    pgPool,
    sqlite,
    sqliteFile: opts.kind === 'sqlite' ? opts.file : undefined,
    destroy: () => db.destroy(),
  };
}
