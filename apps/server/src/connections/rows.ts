import type { Kysely } from 'kysely';
import type { Encryptor } from '../crypto/encryption.js';
import type { Database } from '../store/schema.js';
import { toJson } from '../store/values.js';
import { expiryOf, type StoredCredentials } from './credentials.js';

/** What a new connection row holds; everything else starts empty (no refresh failures, never read). */
export interface NewConnection {
  environmentId: number;
  integrationId: number;
  connectionId: string;
  credentials: StoredCredentials;
  connectionConfig: Record<string, unknown>;
  metadata: Record<string, unknown> | null;
  tags: Record<string, string>;
  endUserRowId: number | null;
  webhookUrlOverride: string | null;
}

/**
 * Inserts a connection, its credentials encrypted and their expiry kept in the clear for the refresh sweep.
 * The one place a connection row is created (import and every auth flow).
 * @throws the database's unique violation when the connection id is taken for the integration.
 */
export async function insertConnection(
  db: Kysely<Database>,
  encryptor: Encryptor,
  row: NewConnection,
  now: string,
): Promise<void> {
  await db
    .insertInto('connections')
    .values({
      environment_id: row.environmentId,
      integration_id: row.integrationId,
      connection_id: row.connectionId,
      credentials_enc: encryptor.encryptJson(row.credentials),
      credentials_expires_at: expiryOf(row.credentials),
      connection_config: toJson(row.connectionConfig) ?? '{}',
      metadata: toJson(row.metadata),
      tags: toJson(row.tags) ?? '{}',
      end_user_id: row.endUserRowId,
      webhook_url_override: row.webhookUrlOverride,
      last_fetched_at: null,
      refresh_attempts: 0,
      last_refresh_failure: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}
