import { randomUUID } from 'node:crypto';
import type { Encryptor } from '../crypto/encryption.js';
import { expiryOf, type StoredCredentials } from '../connections/credentials.js';
import type { Integration } from '../integrations/service.js';
import { insertConnection } from '../connections/rows.js';
import type { ActivityLogWriter } from '../logs/writer.js';
import type { Store } from '../store/store.js';
import { fromJson, nowIso, toJson } from '../store/values.js';
import type { FlowContext } from './flows.js';

/** What an auth flow produced, ready to be stored as a connection. */
export interface NewCredentials {
  environmentId: number;
  integration: Integration;
  authMode: string;
  credentials: StoredCredentials;
  /** Values learnt during the flow (token-response metadata, callback params), merged into the config. */
  connectionConfig: Record<string, unknown>;
  context: FlowContext;
}

/** The connection written, and whether it was new or re-authorized in place. */
export interface SavedConnection {
  connectionId: string;
  operation: 'creation' | 'override';
}

/** Stores auth results as connections: encrypted, with their expiry, end user and an auth event. */
export class ConnectionWriter {
  readonly #store: Store;
  readonly #encryptor: Encryptor;
  readonly #activity: ActivityLogWriter;

  constructor(deps: { store: Store; encryptor: Encryptor; activity: ActivityLogWriter }) {
    this.#store = deps.store;
    this.#encryptor = deps.encryptor;
    this.#activity = deps.activity;
  }

  /**
   * Creates the connection, or replaces the credentials of the existing one in place (a reconnect session's
   * connection, or the same connection id): the refresh bookkeeping is reset, the config merged.
   */
  async save(input: NewCredentials): Promise<SavedConnection> {
    const { context, integration } = input;
    const now = nowIso();
    const credentialsEnc = this.#encryptor.encryptJson(input.credentials);
    const expiresAt = expiryOf(input.credentials);
    const saved = await this.#store.db.transaction().execute(async (trx) => {
      let existing = context.reconnectConnectionRowId
        ? await trx
            .selectFrom('connections')
            .select(['id', 'connection_id', 'connection_config'])
            .where('id', '=', context.reconnectConnectionRowId)
            .where('integration_id', '=', integration.id)
            .executeTakeFirst()
        : undefined;
      if (!existing && context.connectionId) {
        existing = await trx
          .selectFrom('connections')
          .select(['id', 'connection_id', 'connection_config'])
          .where('integration_id', '=', integration.id)
          .where('connection_id', '=', context.connectionId)
          .executeTakeFirst();
      }
      if (existing) {
        const config = {
          ...fromJson<Record<string, unknown>>(existing.connection_config),
          ...input.connectionConfig,
        };
        await trx
          .updateTable('connections')
          .set({
            credentials_enc: credentialsEnc,
            credentials_expires_at: expiresAt,
            connection_config: JSON.stringify(config),
            refresh_attempts: 0,
            last_refresh_failure: null,
            updated_at: now,
            ...(context.endUserRowId !== null ? { end_user_id: context.endUserRowId } : {}),
          })
          .where('id', '=', existing.id)
          .execute();
        return { connectionId: existing.connection_id, operation: 'override' as const };
      }
      const connectionId = context.connectionId ?? randomUUID();
      await insertConnection(
        trx,
        this.#encryptor,
        {
          environmentId: input.environmentId,
          integrationId: integration.id,
          connectionId,
          credentials: input.credentials,
          connectionConfig: input.connectionConfig,
          metadata: null,
          tags: context.tags,
          endUserRowId: context.endUserRowId,
          webhookUrlOverride: null,
        },
        now,
      );
      return { connectionId, operation: 'creation' as const };
    });
    await this.recordEvent({
      environmentId: input.environmentId,
      integration,
      authMode: input.authMode,
      connectionId: saved.connectionId,
      operation: saved.operation,
      endUserRowId: context.endUserRowId,
      error: null,
    });
    return saved;
  }

  /** Records an auth event (the outbox of auth webhooks) and an `auth` operation in the activity log. */
  async recordEvent(e: {
    environmentId: number;
    integration: Integration;
    authMode: string;
    connectionId: string;
    operation: 'creation' | 'override' | 'failure';
    endUserRowId: number | null;
    error: { code: string; message: string } | null;
  }): Promise<void> {
    const endUser = e.endUserRowId
      ? await this.#store.db
          .selectFrom('end_users')
          .select(['end_user_id as id', 'email', 'display_name'])
          .where('id', '=', e.endUserRowId)
          .executeTakeFirst()
      : undefined;
    await this.#store.db
      .insertInto('auth_events')
      .values({
        environment_id: e.environmentId,
        provider_config_key: e.integration.uniqueKey,
        provider: e.integration.provider,
        connection_id: e.connectionId,
        auth_mode: e.authMode,
        operation: e.operation,
        success: e.error ? 0 : 1,
        error: toJson(e.error),
        end_user: toJson(endUser ?? null),
        created_at: nowIso(),
      })
      .execute();
    const op = this.#activity.start({
      environmentId: e.environmentId,
      kind: 'auth',
      name: `connection.${e.operation}`,
      integration: e.integration.uniqueKey,
      connectionId: e.connectionId,
      meta: { auth_mode: e.authMode },
    });
    if (e.error) {
      op.log('error', `${e.authMode} authorization failed: ${e.error.code}: ${e.error.message}`);
      op.end('failed');
    } else {
      op.log('info', `${e.authMode} connection ${e.operation === 'creation' ? 'created' : 're-authorized'}.`);
      op.end('success');
    }
  }
}
