import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './store.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations work on the untyped schema */

function types(dialect: Dialect) {
  const pg = dialect === 'postgres';
  return {
    id: pg ? ('serial' as const) : ('integer' as const),
    ts: pg ? ('timestamptz' as const) : ('text' as const),
    json: pg ? ('jsonb' as const) : ('text' as const),
    // serial/bigserial already auto-increment on PostgreSQL; SQLite needs AUTOINCREMENT so ids are never reused.
    pk: <C extends { primaryKey(): C; autoIncrement(): C }>(c: C): C =>
      pg ? c.primaryKey() : c.primaryKey().autoIncrement(),
  };
}

function initial(dialect: Dialect): Migration {
  const t = types(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('environments')
        .addColumn('id', t.id, t.pk)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('secret_key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull().unique())
        .addColumn('webhook_signing_key_enc', 'text')
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('integrations')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('unique_key', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('credentials_enc', 'text')
        .addColumn('forward_webhooks', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .addUniqueConstraint('integrations_env_key_unique', ['environment_id', 'unique_key'])
        .execute();

      await db.schema
        .createTable('end_users')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('end_user_id', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('display_name', 'text')
        .addColumn('tags', t.json)
        .addColumn('organization_id', 'text')
        .addColumn('organization_display_name', 'text')
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .addUniqueConstraint('end_users_env_user_unique', ['environment_id', 'end_user_id'])
        .execute();

      await db.schema
        .createTable('connections')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('integration_id', 'integer', (c) =>
          c.notNull().references('integrations.id').onDelete('cascade'),
        )
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('credentials_enc', 'text', (c) => c.notNull())
        .addColumn('credentials_expires_at', t.ts)
        .addColumn('connection_config', t.json, (c) => c.notNull())
        .addColumn('metadata', t.json)
        .addColumn('tags', t.json, (c) => c.notNull())
        .addColumn('end_user_id', 'integer', (c) => c.references('end_users.id').onDelete('set null'))
        .addColumn('webhook_url_override', 'text')
        .addColumn('last_fetched_at', t.ts)
        .addColumn('refresh_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_refresh_failure', t.json)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .addUniqueConstraint('connections_integration_conn_unique', ['integration_id', 'connection_id'])
        .execute();
      await db.schema
        .createIndex('connections_env_created')
        .on('connections')
        .columns(['environment_id', 'created_at'])
        .execute();
      await db.schema.createIndex('connections_end_user').on('connections').column('end_user_id').execute();
      await db.schema
        .createIndex('connections_expiry')
        .on('connections')
        .column('credentials_expires_at')
        .execute();

      await db.schema
        .createTable('connect_sessions')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('end_user_id', 'integer', (c) => c.references('end_users.id').onDelete('cascade'))
        .addColumn('organization', t.json)
        .addColumn('allowed_integrations', t.json)
        .addColumn('integrations_config_defaults', t.json)
        .addColumn('tags', t.json, (c) => c.notNull())
        .addColumn('reconnect_connection_id', 'integer', (c) =>
          c.references('connections.id').onDelete('cascade'),
        )
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('connect_sessions_expiry')
        .on('connect_sessions')
        .column('expires_at')
        .execute();

      await db.schema
        .createTable('operations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('integration', 'text')
        .addColumn('connection_id', 'text')
        .addColumn('started_at', t.ts, (c) => c.notNull())
        .addColumn('ended_at', t.ts)
        .addColumn('meta', t.json)
        .execute();
      await db.schema
        .createIndex('operations_env_started')
        .on('operations')
        .columns(['environment_id', 'started_at', 'id'])
        .execute();

      await db.schema
        .createTable('operation_messages')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', t.pk)
        .addColumn('operation_id', 'text', (c) => c.notNull().references('operations.id').onDelete('cascade'))
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('meta', t.json)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('operation_messages_op')
        .on('operation_messages')
        .columns(['operation_id', 'id'])
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of [
        'operation_messages',
        'operations',
        'connect_sessions',
        'connections',
        'end_users',
        'integrations',
        'environments',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
      await sql`select 1`.execute(db);
    },
  };
}

function authFlows(dialect: Dialect): Migration {
  const t = types(dialect);
  return {
    async up(db: Kysely<any>) {
      // One row per browser auth flow: what it may do, where its result goes, and the result itself, so that any
      // process can answer the SDK's long-poll.
      await db.schema
        .createTable('auth_flows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('provider_config_key', 'text', (c) => c.notNull())
        .addColumn('origin', 'text')
        .addColumn('context', t.json, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('result', t.json)
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('auth_flows_expiry').on('auth_flows').column('expires_at').execute();

      // Single-use OAuth state, bound to a browser cookie; deleted when the callback reads it.
      await db.schema
        .createTable('oauth_sessions')
        .addColumn('state', 'text', (c) => c.primaryKey())
        .addColumn('flow_id', 'text', (c) => c.notNull().references('auth_flows.id').onDelete('cascade'))
        .addColumn('cookie_hash', 'text', (c) => c.notNull())
        .addColumn('auth_mode', 'text', (c) => c.notNull())
        .addColumn('secrets_enc', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('oauth_sessions_expiry')
        .on('oauth_sessions')
        .column('expires_at')
        .execute();

      // Connection created / re-authorized / failed: the outbox the auth webhooks are sent from.
      await db.schema
        .createTable('auth_events')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('provider_config_key', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('auth_mode', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('success', 'integer', (c) => c.notNull())
        .addColumn('error', t.json)
        .addColumn('end_user', t.json)
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('auth_events_env_id')
        .on('auth_events')
        .columns(['environment_id', 'id'])
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['auth_events', 'oauth_sessions', 'auth_flows']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/** Per-integration proxy policy: may callers point `Base-Url-Override` elsewhere? (null: the server default) */
const integrationProxyPolicy: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('integrations').addColumn('proxy_base_url_override', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('integrations').dropColumn('proxy_base_url_override').execute();
  },
};

/** The credential read looks connections up by (environment, connection id): index it. */
const connectionLookupIndex: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('connections_env_conn')
      .on('connections')
      .columns(['environment_id', 'connection_id'])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('connections_env_conn').execute();
  },
};

/** The key check: one ciphertext made with the current encryption key (see `crypto/keyCheck.ts`). */
function encryptionKeyCheck(dialect: Dialect): Migration {
  const t = types(dialect);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('encryption_key_check')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('value_enc', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('encryption_key_check').ifExists().execute();
    },
  };
}

/** The script registry (`scripts/`): scripts, their immutable versions, bundles by content hash, the deploy lock. */
function scripts(dialect: Dialect): Migration {
  const t = types(dialect);
  return {
    async up(db: Kysely<any>) {
      // A compiled bundle, stored once per content (sha256 of the text, the runtime's code-cache key).
      await db.schema
        .createTable('script_bundles')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('js', 'text', (c) => c.notNull())
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .execute();
      // One sync, action or on-event script of an integration; `deleted_at` set when a deploy removed it.
      await db.schema
        .createTable('scripts')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) =>
          c.notNull().references('environments.id').onDelete('cascade'),
        )
        .addColumn('integration_id', 'integer', (c) =>
          c.notNull().references('integrations.id').onDelete('cascade'),
        )
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('current_version_id', 'integer')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addColumn('updated_at', t.ts, (c) => c.notNull())
        .addColumn('deleted_at', t.ts)
        .addUniqueConstraint('scripts_integration_type_name_unique', ['integration_id', 'type', 'name'])
        .execute();
      await db.schema.createIndex('scripts_env').on('scripts').column('environment_id').execute();
      // Every deployed version, never changed once written: a run finishes on the version it started with.
      await db.schema
        .createTable('script_versions')
        .addColumn('id', t.id, t.pk)
        .addColumn('script_id', 'integer', (c) => c.notNull().references('scripts.id').onDelete('cascade'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('bundle_hash', 'text', (c) => c.notNull().references('script_bundles.hash'))
        .addColumn('source_ts', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('event', 'text')
        .addColumn('runs', 'text')
        .addColumn('auto_start', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('sync_type', 'text')
        .addColumn('track_deletes', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('description', 'text')
        .addColumn('input_model', 'text')
        .addColumn('output_model', 'text')
        .addColumn('models', t.json, (c) => c.notNull())
        .addColumn('models_json_schema', t.json)
        .addColumn('endpoints', t.json, (c) => c.notNull())
        .addColumn('scopes', t.json, (c) => c.notNull())
        .addColumn('webhook_subscriptions', t.json, (c) => c.notNull())
        .addColumn('features', t.json, (c) => c.notNull())
        .addColumn('attributes', t.json)
        .addColumn('sdk_version', 'text')
        .addColumn('deployed_at', t.ts, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('script_versions_script')
        .on('script_versions')
        .columns(['script_id', 'id'])
        .execute();
      // One row while a deploy runs in an environment; expired rows are taken over.
      await db.schema
        .createTable('script_deploy_locks')
        .addColumn('environment_id', 'integer', (c) =>
          c.primaryKey().references('environments.id').onDelete('cascade'),
        )
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.ts, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const table of ['script_deploy_locks', 'script_versions', 'scripts', 'script_bundles']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/**
 * The records store: one feed row per (connection, model) holding the cursor counter, and the records keyed by
 * (feed, external id) with a unique (feed, cursor) index for the change feed. The records' timestamps are ISO 8601
 * text on both dialects (fixed width, so they compare as text): the feed returns them as they are, where parsing
 * and formatting `timestamptz` cost PostgreSQL more than reading the page itself.
 */
function records(dialect: Dialect): Migration {
  const t = types(dialect);
  const big = dialect === 'postgres' ? ('bigint' as const) : ('integer' as const);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('records_feeds')
        .addColumn('id', t.id, t.pk)
        .addColumn('environment_id', 'integer', (c) => c.notNull())
        .addColumn('connection_id', 'integer', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('last_cursor', big, (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.ts, (c) => c.notNull())
        .addUniqueConstraint('records_feeds_conn_model_unique', ['connection_id', 'model'])
        .execute();
      await db.schema
        .createTable('records')
        .addColumn('feed_id', 'integer', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('cursor', big, (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('payload', 'text')
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_modified_at', 'text', (c) => c.notNull())
        .addColumn('last_action', 'text', (c) => c.notNull())
        .addColumn('deleted_at', 'text')
        .addColumn('pruned_at', 'text')
        .addColumn('sync_run_id', 'text')
        .addPrimaryKeyConstraint('records_pk', ['feed_id', 'external_id'])
        .execute();
      await db.schema
        .createIndex('records_feed_cursor')
        .on('records')
        .columns(['feed_id', 'cursor'])
        .unique()
        .execute();
      await db.schema
        .createIndex('records_deleted_at')
        .on('records')
        .column('deleted_at')
        .where(sql.ref('deleted_at'), 'is not', null)
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('records').ifExists().execute();
      await db.schema.dropTable('records_feeds').ifExists().execute();
    },
  };
}

/**
 * The key ids that wrote each feed's encrypted payloads (`records_feeds.payload_key_ids`, `,id1,id2,`), so the
 * start-up key check reads one small column instead of scanning the records. Filled here once from the records
 * already stored; afterwards each write adds its key id in its own transaction.
 */
const recordsPayloadKeys: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('records_feeds')
      .addColumn('payload_key_ids', 'text', (c) => c.notNull().defaultTo(','))
      .execute();
    const { rows } = await sql<{ feed_id: number; key_id: string }>`select distinct feed_id,
      substr(payload, 4, 8) as key_id from records where payload like 'v1:%'`.execute(db);
    const byFeed = new Map<number, string[]>();
    for (const r of rows) byFeed.set(r.feed_id, [...(byFeed.get(r.feed_id) ?? []), r.key_id]);
    for (const [feedId, ids] of byFeed)
      await db
        .updateTable('records_feeds')
        .set({ payload_key_ids: `,${ids.join(',')},` })
        .where('id', '=', feedId)
        .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('records_feeds').dropColumn('payload_key_ids').execute();
  },
};

/** The ordered migrations for a dialect; names are stable, new ones are appended. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    getMigrations: async () => ({
      '0001_initial': initial(dialect),
      '0002_auth_flows': authFlows(dialect),
      '0003_integration_proxy_policy': integrationProxyPolicy,
      '0004_connection_lookup_index': connectionLookupIndex,
      '0005_encryption_key_check': encryptionKeyCheck(dialect),
      '0007_scripts': scripts(dialect),
      '0008_records': records(dialect),
      '0009_records_payload_keys': recordsPayloadKeys,
    }),
  };
}
