import type { Generated } from 'kysely';

/** Timestamps are `timestamptz` on PostgreSQL (read as Date) and ISO text on SQLite (read as string). */
export type Timestamp = Date | string;
/** JSON columns are `jsonb` on PostgreSQL (read parsed) and text on SQLite (read as a string). */
export type Json = unknown;

export interface EnvironmentsTable {
  id: Generated<number>;
  name: string;
  secret_key_hash: string;
  public_key: string;
  webhook_signing_key_enc: string | null;
  created_at: Timestamp;
}

export interface IntegrationsTable {
  id: Generated<number>;
  environment_id: number;
  unique_key: string;
  provider: string;
  display_name: string;
  credentials_enc: string | null;
  forward_webhooks: number;
  /** `off`, `same-host` or `any`; null follows FERRY_PROXY_BASE_URL_OVERRIDE. */
  proxy_base_url_override: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EndUsersTable {
  id: Generated<number>;
  environment_id: number;
  end_user_id: string;
  email: string | null;
  display_name: string | null;
  tags: Json;
  organization_id: string | null;
  organization_display_name: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConnectionsTable {
  id: Generated<number>;
  environment_id: number;
  integration_id: number;
  connection_id: string;
  credentials_enc: string;
  credentials_expires_at: Timestamp | null;
  connection_config: Json;
  metadata: Json;
  tags: Json;
  end_user_id: number | null;
  webhook_url_override: string | null;
  last_fetched_at: Timestamp | null;
  refresh_attempts: number;
  last_refresh_failure: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ConnectSessionsTable {
  id: Generated<number>;
  environment_id: number;
  token_hash: string;
  end_user_id: number | null;
  organization: Json;
  allowed_integrations: Json;
  integrations_config_defaults: Json;
  tags: Json;
  reconnect_connection_id: number | null;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface OperationsTable {
  id: string;
  environment_id: number;
  kind: string;
  name: string;
  status: string;
  integration: string | null;
  connection_id: string | null;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  meta: Json;
}

export interface OperationMessagesTable {
  id: Generated<number>;
  operation_id: string;
  level: string;
  message: string;
  meta: Json;
  created_at: Timestamp;
}

export interface AuthFlowsTable {
  id: string;
  secret_hash: string;
  environment_id: number;
  provider_config_key: string;
  origin: string | null;
  context: Json;
  status: string;
  result: Json;
  expires_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OAuthSessionsTable {
  state: string;
  flow_id: string;
  cookie_hash: string;
  auth_mode: string;
  secrets_enc: string;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface AuthEventsTable {
  id: Generated<number>;
  environment_id: number;
  provider_config_key: string;
  provider: string;
  connection_id: string;
  auth_mode: string;
  operation: string;
  success: number;
  error: Json;
  end_user: Json;
  created_at: Timestamp;
}

/** One row (id 1): a ciphertext made with the key the servers write with, so a server with another key refuses to start. */
export interface EncryptionKeyCheckTable {
  id: number;
  value_enc: string;
  updated_at: Timestamp;
}

/** One change feed: the records of one model (variant included, `Model::variant`) of one connection. */
export interface RecordsFeedsTable {
  id: Generated<number>;
  environment_id: number;
  /** The connection's internal id (`connections.id`, never reused); no foreign key: records go in the background. */
  connection_id: number;
  model: string;
  /** The highest cursor given out; bumped in the transaction that writes the changes (the feed's lock). */
  last_cursor: number;
  created_at: Timestamp;
  /**
   * The ids of the keys that encrypted payloads of this feed, as `,id1,id2,` (`,` when none): read by the start-up
   * key check instead of the records. Only grows (a key id stays listed until the feed is dropped).
   */
  payload_key_ids: Generated<string>;
}

/** A record of a feed; `payload` is JSON text (or ciphertext), null once pruned. */
export interface RecordsTable {
  feed_id: number;
  external_id: string;
  cursor: number;
  hash: string;
  payload: string | null;
  /** ISO 8601 text on both dialects. */
  first_seen_at: string;
  last_modified_at: string;
  last_action: 'ADDED' | 'UPDATED' | 'DELETED';
  deleted_at: string | null;
  pruned_at: string | null;
  sync_run_id: string | null;
}

/** A compiled script bundle, stored once per content hash (`scripts/`). */
export interface ScriptBundlesTable {
  hash: string;
  js: string;
  created_at: Timestamp;
}

/** A sync, action or on-event script of an integration (`scripts/`). */
export interface ScriptsTable {
  id: Generated<number>;
  environment_id: number;
  integration_id: number;
  type: string;
  name: string;
  current_version_id: number | null;
  enabled: number;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: Timestamp | null;
}

/** One immutable deployed version of a script (`scripts/`). */
export interface ScriptVersionsTable {
  id: Generated<number>;
  script_id: number;
  version: string;
  bundle_hash: string;
  source_ts: string;
  fingerprint: string;
  event: string | null;
  runs: string | null;
  auto_start: number;
  sync_type: string | null;
  track_deletes: number;
  description: string | null;
  input_model: string | null;
  output_model: string | null;
  models: Json;
  models_json_schema: Json;
  endpoints: Json;
  scopes: Json;
  webhook_subscriptions: Json;
  features: Json;
  attributes: Json;
  sdk_version: string | null;
  deployed_at: Timestamp;
}

/** The per-environment deploy lock (`scripts/`). */
export interface ScriptDeployLocksTable {
  environment_id: number;
  owner: string;
  expires_at: Timestamp;
}

/** The whole database, as Kysely sees it. */
export interface Database {
  environments: EnvironmentsTable;
  integrations: IntegrationsTable;
  end_users: EndUsersTable;
  connections: ConnectionsTable;
  connect_sessions: ConnectSessionsTable;
  operations: OperationsTable;
  operation_messages: OperationMessagesTable;
  auth_flows: AuthFlowsTable;
  oauth_sessions: OAuthSessionsTable;
  auth_events: AuthEventsTable;
  encryption_key_check: EncryptionKeyCheckTable;
  records_feeds: RecordsFeedsTable;
  records: RecordsTable;
  script_bundles: ScriptBundlesTable;
  scripts: ScriptsTable;
  script_versions: ScriptVersionsTable;
  script_deploy_locks: ScriptDeployLocksTable;
}
