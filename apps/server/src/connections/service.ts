import { randomUUID } from 'node:crypto';
import { sql, type Expression, type InferResult, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../store/schema.js';
import type { Encryptor } from '../crypto/encryption.js';
import { FerryError } from '../errors.js';
import type { IntegrationService } from '../integrations/service.js';
import type { ActivityLogWriter } from '../logs/writer.js';
import { prepareQuery } from '../store/prepared.js';
import { LastFetchedTracker } from './lastFetched.js';
import type { CredentialRefresher } from './refresh.js';
import { insertConnection } from './rows.js';
import { checkInterpolatedValues } from './configCheck.js';
import type { Store } from '../store/store.js';
import { fromJson, isUniqueViolation, nowIso, toIso } from '../store/values.js';
import {
  fitsAuthMode,
  toStoredCredentials,
  type ImportCredentials,
  type StoredCredentials,
} from './credentials.js';
import {
  endUserColumns,
  toApiEndUser,
  upsertEndUser,
  type ApiEndUser,
  type EndUserInput,
  type OrganizationInput,
} from './endUsers.js';
import { publicCredentials } from './publicCredentials.js';

/** A refresh problem recorded on a connection. */
export interface ApiConnectionError {
  type: string;
  log_id: string | null;
}

/** A connection in `GET /connections`. */
export interface ApiConnectionSummary {
  id: number;
  connection_id: string;
  provider_config_key: string;
  provider: string;
  created: string;
  metadata: Record<string, unknown> | null;
  errors: ApiConnectionError[];
  end_user: ApiEndUser | null;
  tags: Record<string, string>;
}

/** A connection in `GET /connections/:id`, credentials included. */
export interface ApiConnectionFull {
  id: number;
  connection_id: string;
  provider_config_key: string;
  provider: string;
  errors: ApiConnectionError[];
  end_user: ApiEndUser | null;
  tags: Record<string, string>;
  metadata: Record<string, unknown> | null;
  connection_config: Record<string, unknown>;
  webhook_url_override: string | null;
  created_at: string;
  updated_at: string;
  last_fetched_at: string | null;
  credentials: StoredCredentials;
}

export interface ImportConnectionInput {
  provider_config_key: string;
  connection_id?: string | undefined;
  credentials: ImportCredentials;
  metadata?: Record<string, unknown> | undefined;
  connection_config?: Record<string, unknown> | undefined;
  end_user?: EndUserInput | undefined;
  organization?: OrganizationInput | undefined;
  tags?: Record<string, string> | undefined;
  webhook_url_override?: string | null | undefined;
}

export interface ListConnectionsFilter {
  connectionId?: string | undefined;
  search?: string | undefined;
  endUserId?: string | undefined;
  endUserOrganizationId?: string | undefined;
  integrationIds?: string[] | undefined;
  tags?: Record<string, string> | undefined;
  limit: number;
  page: number;
}

export interface PatchConnectionInput {
  end_user?: EndUserInput | undefined;
  tags?: Record<string, string> | undefined;
  webhook_url_override?: string | null | undefined;
}

/** Finds a connection's id and metadata by its public keys. @throws unknown_connection */
async function requireConnection(
  db: Kysely<Database>,
  environmentId: number,
  connectionId: string,
  providerConfigKey: string,
): Promise<{ id: number; metadata: unknown }> {
  const row = await db
    .selectFrom('connections as c')
    .innerJoin('integrations as i', 'i.id', 'c.integration_id')
    .select(['c.id', 'c.metadata'])
    .where('c.environment_id', '=', environmentId)
    .where('c.connection_id', '=', connectionId)
    .where('i.unique_key', '=', providerConfigKey)
    .executeTakeFirst();
  if (!row) {
    throw new FerryError(
      'unknown_connection',
      `Connection "${connectionId}" for integration "${providerConfigKey}" does not exist.`,
    );
  }
  return row;
}

type FoundRow = InferResult<ReturnType<ConnectionService['findRowQuery']>>[number];

/** Connections: one end user's credentials for one integration. */
export class ConnectionService {
  readonly #store: Store;
  readonly #encryptor: Encryptor;
  readonly #integrations: IntegrationService;
  readonly #activity: ActivityLogWriter;
  readonly #lastFetched: LastFetchedTracker;
  readonly #plain = new Map<string, StoredCredentials>();
  readonly #refresher: CredentialRefresher;
  readonly #deleted: (() => void)[] = [];
  readonly #findOne: (
    environmentId: number,
    connectionId: string,
    providerConfigKey: string,
  ) => Promise<FoundRow[]>;

  constructor(deps: {
    store: Store;
    encryptor: Encryptor;
    integrations: IntegrationService;
    activity: ActivityLogWriter;
    refresher: CredentialRefresher;
  }) {
    this.#refresher = deps.refresher;
    this.#store = deps.store;
    this.#encryptor = deps.encryptor;
    this.#integrations = deps.integrations;
    this.#activity = deps.activity;
    this.#lastFetched = new LastFetchedTracker(deps.store);
    // The credential read is the hottest query of the API: compiled once.
    this.#findOne = prepareQuery(
      deps.store,
      'ferry_find_connection',
      (environmentId: number, connectionId: string, providerConfigKey: string) =>
        this.findRowQuery(environmentId, connectionId, providerConfigKey),
      [-987654321, '\u0000connection', '\u0000integration'],
    );
  }

  /** The query behind {@link ConnectionService.findRow}. */
  findRowQuery(environmentId: number, connectionId: string, providerConfigKey: string) {
    return this.#baseQuery(environmentId)
      .select(['c.credentials_enc', 'c.connection_config', 'c.webhook_url_override', 'c.integration_id'])
      .where('c.connection_id', '=', connectionId)
      .where('i.unique_key', '=', providerConfigKey);
  }

  /**
   * Decrypts stored credentials, remembering the last few hundred by ciphertext: a ciphertext never changes
   * meaning (every write re-encrypts with a fresh IV), so busy connections skip AES on every read. Results are
   * frozen because readers share them.
   */
  #decrypt(ciphertext: string): StoredCredentials {
    const hit = this.#plain.get(ciphertext);
    if (hit) return hit;
    const value = Object.freeze(this.#encryptor.decryptJson<StoredCredentials>(ciphertext));
    if (this.#plain.size >= 500) this.#plain.delete(this.#plain.keys().next().value as string);
    this.#plain.set(ciphertext, value);
    return value;
  }

  /** Calls `listener` after a connection was deleted (its records are then removed in the background). */
  onDeleted(listener: () => void): void {
    this.#deleted.push(listener);
  }

  /** The number of connections of each integration (by unique key) of an environment. */
  async countByIntegration(environmentId: number): Promise<Map<string, number>> {
    const rows = await this.#store.db
      .selectFrom('connections as c')
      .innerJoin('integrations as i', 'i.id', 'c.integration_id')
      .select(['i.unique_key', (eb) => eb.fn.countAll<number>().as('n')])
      .where('c.environment_id', '=', environmentId)
      .groupBy('i.unique_key')
      .execute();
    return new Map(rows.map((r) => [r.unique_key, Number(r.n)]));
  }

  /** Writes pending last-fetched times (on shutdown). */
  flush(): Promise<void> {
    return this.#lastFetched.flush();
  }

  #baseQuery(environmentId: number) {
    return this.#store.db
      .selectFrom('connections as c')
      .innerJoin('integrations as i', 'i.id', 'c.integration_id')
      .leftJoin('end_users as u', 'u.id', 'c.end_user_id')
      .where('c.environment_id', '=', environmentId)
      .select([
        'c.id',
        'c.connection_id',
        'c.created_at',
        'c.updated_at',
        'c.metadata',
        'c.tags',
        'c.last_refresh_failure',
        'c.last_fetched_at',
        'i.unique_key',
        'i.provider',
        ...endUserColumns,
      ]);
  }

  /**
   * Imports a connection with existing credentials.
   * @throws unknown_provider_config, invalid_body (credentials of the wrong type; a config value or token that
   *   does not fit where the provider interpolates it), duplicate_connection
   */
  async import(environmentId: number, input: ImportConnectionInput): Promise<ApiConnectionFull> {
    const integration = await this.#integrations.find(environmentId, input.provider_config_key);
    if (!integration)
      throw new FerryError(
        'unknown_provider_config',
        `Integration "${input.provider_config_key}" does not exist.`,
      );
    const credentials = toStoredCredentials(input.credentials);
    const provider = this.#integrations.providerOf(integration.provider);
    const authMode = provider?.auth_mode;
    if (authMode && !fitsAuthMode(credentials.type, authMode)) {
      throw new FerryError(
        'invalid_body',
        `Credentials of type ${credentials.type} do not fit integration "${integration.uniqueKey}" (auth mode ${authMode}).`,
        {
          errors: [{ path: 'credentials.type', message: `expected ${authMode}` }],
        },
      );
    }
    if (provider) {
      checkInterpolatedValues(provider, {
        connectionConfig: { value: input.connection_config ?? {}, field: 'connection_config' },
        credentials: { value: credentials, field: 'credentials' },
      });
    }
    const connectionId = input.connection_id ?? randomUUID();
    const now = nowIso();
    try {
      await this.#store.db.transaction().execute(async (trx) => {
        const endUserRowId = input.end_user
          ? await upsertEndUser(trx, environmentId, input.end_user, input.organization)
          : null;
        await insertConnection(
          trx,
          this.#encryptor,
          {
            environmentId,
            integrationId: integration.id,
            connectionId,
            credentials,
            connectionConfig: input.connection_config ?? {},
            metadata: input.metadata ?? null,
            tags: input.tags ?? {},
            endUserRowId,
            webhookUrlOverride: input.webhook_url_override ?? null,
          },
          now,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new FerryError(
          'duplicate_connection',
          `Connection "${connectionId}" already exists for integration "${integration.uniqueKey}".`,
        );
      }
      throw err;
    }
    const op = this.#activity.start({
      environmentId,
      kind: 'auth',
      name: 'connection.import',
      integration: integration.uniqueKey,
      connectionId,
    });
    op.log('info', `Imported ${credentials.type} credentials for connection "${connectionId}".`);
    op.end('success');
    return this.get(environmentId, connectionId, input.provider_config_key, {
      refreshToken: false,
      touch: false,
      refresh: false,
    });
  }

  /** Lists connections, newest first, paged. */
  async list(environmentId: number, f: ListConnectionsFilter): Promise<ApiConnectionSummary[]> {
    let q = this.#baseQuery(environmentId);
    if (f.connectionId) q = q.where('c.connection_id', '=', f.connectionId);
    if (f.endUserId) q = q.where('u.end_user_id', '=', f.endUserId);
    if (f.endUserOrganizationId) q = q.where('u.organization_id', '=', f.endUserOrganizationId);
    if (f.integrationIds && f.integrationIds.length > 0) q = q.where('i.unique_key', 'in', f.integrationIds);
    if (f.search) {
      const like = `%${f.search.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      q = q.where((eb) =>
        eb.or([
          sql<SqlBool>`lower(${eb.ref('c.connection_id')}) like ${like} escape '\\'`,
          sql<SqlBool>`lower(coalesce(${eb.ref('u.end_user_id')}, '')) like ${like} escape '\\'`,
          sql<SqlBool>`lower(coalesce(${eb.ref('u.email')}, '')) like ${like} escape '\\'`,
          sql<SqlBool>`lower(coalesce(${eb.ref('u.display_name')}, '')) like ${like} escape '\\'`,
        ]),
      );
    }
    for (const [key, value] of Object.entries(f.tags ?? {})) {
      q = q.where(this.#tagEquals(key, value));
    }
    const rows = await q
      .orderBy('c.created_at', 'desc')
      .orderBy('c.id', 'desc')
      .limit(f.limit)
      .offset(f.page * f.limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      connection_id: r.connection_id,
      provider_config_key: r.unique_key,
      provider: r.provider,
      created: toIso(r.created_at),
      metadata: fromJson<Record<string, unknown> | null>(r.metadata),
      errors: this.#errorsOf(r.last_refresh_failure),
      end_user: toApiEndUser({ ...r, tags: r.end_user_tags }),
      tags: fromJson<Record<string, string>>(r.tags),
    }));
  }

  #tagEquals(key: string, value: string): Expression<SqlBool> {
    return this.#store.dialect === 'postgres'
      ? sql<SqlBool>`c.tags ->> ${key} = ${value}`
      : sql<SqlBool>`json_extract(c.tags, ${'$.' + JSON.stringify(key)}) = ${value}`;
  }

  #errorsOf(failure: unknown): ApiConnectionError[] {
    const f = fromJson<{ type?: string; log_id?: string | null } | null>(failure);
    return f ? [{ type: f.type ?? 'auth', log_id: f.log_id ?? null }] : [];
  }

  /** Finds a connection's internal row with decrypted credentials, or undefined. */
  async findRow(environmentId: number, connectionId: string, providerConfigKey: string) {
    const rows = await this.#findOne(environmentId, connectionId, providerConfigKey);
    return rows[0];
  }

  /**
   * Gets one connection with its credentials; the refresh token is removed unless asked for, at any depth
   * ({@link publicCredentials}).
   * @throws unknown_connection
   */
  async get(
    environmentId: number,
    connectionId: string,
    providerConfigKey: string,
    opts: { refreshToken: boolean; forceRefresh?: boolean; touch?: boolean; refresh?: boolean },
  ): Promise<ApiConnectionFull> {
    const r = await this.findRow(environmentId, connectionId, providerConfigKey);
    if (!r)
      throw new FerryError(
        'unknown_connection',
        `Connection "${connectionId}" for integration "${providerConfigKey}" does not exist.`,
      );
    const read = this.#decrypt(r.credentials_enc);
    const stored =
      opts.refresh === false
        ? read
        : await this.#refresher.ensureFresh(
            {
              rowId: r.id,
              environmentId,
              connectionId: r.connection_id,
              providerConfigKey: r.unique_key,
              provider: r.provider,
              connectionConfig: fromJson<Record<string, unknown>>(r.connection_config),
              credentials: read,
              updatedAt: toIso(r.updated_at),
            },
            { force: opts.forceRefresh === true },
          );
    const credentials = publicCredentials(stored, { includeRefreshToken: opts.refreshToken });
    let lastFetchedAt = r.last_fetched_at === null ? null : toIso(r.last_fetched_at);
    if (opts.touch !== false) {
      lastFetchedAt = nowIso();
      this.#lastFetched.touch(r.id);
    }
    return {
      id: r.id,
      connection_id: r.connection_id,
      provider_config_key: r.unique_key,
      provider: r.provider,
      errors: this.#errorsOf(r.last_refresh_failure),
      end_user: toApiEndUser({ ...r, tags: r.end_user_tags }),
      tags: fromJson<Record<string, string>>(r.tags),
      metadata: fromJson<Record<string, unknown> | null>(r.metadata),
      connection_config: fromJson<Record<string, unknown>>(r.connection_config),
      webhook_url_override: r.webhook_url_override,
      created_at: toIso(r.created_at),
      updated_at: toIso(r.updated_at),
      last_fetched_at: lastFetchedAt,
      credentials,
    };
  }

  async #requireId(environmentId: number, connectionId: string, providerConfigKey: string): Promise<number> {
    return (await requireConnection(this.#store.db, environmentId, connectionId, providerConfigKey)).id;
  }

  /** Updates the end user, tags or webhook URL override. @throws unknown_connection */
  async patch(
    environmentId: number,
    connectionId: string,
    providerConfigKey: string,
    input: PatchConnectionInput,
  ): Promise<void> {
    const id = await this.#requireId(environmentId, connectionId, providerConfigKey);
    await this.#store.db.transaction().execute(async (trx) => {
      const set: {
        updated_at: string;
        end_user_id?: number;
        tags?: string;
        webhook_url_override?: string | null;
      } = { updated_at: nowIso() };
      if (input.end_user) set.end_user_id = await upsertEndUser(trx, environmentId, input.end_user);
      if (input.tags) set.tags = JSON.stringify(input.tags);
      if (input.webhook_url_override !== undefined) set.webhook_url_override = input.webhook_url_override;
      await trx.updateTable('connections').set(set).where('id', '=', id).execute();
    });
  }

  /** Deletes a connection. @throws unknown_connection */
  async delete(environmentId: number, connectionId: string, providerConfigKey: string): Promise<void> {
    const id = await this.#requireId(environmentId, connectionId, providerConfigKey);
    await this.#store.db.deleteFrom('connections').where('id', '=', id).execute();
    for (const listener of this.#deleted) listener();
    const op = this.#activity.start({
      environmentId,
      kind: 'admin',
      name: 'connection.delete',
      integration: providerConfigKey,
      connectionId,
    });
    op.end('success');
  }

  /**
   * Replaces (`merge: false`) or shallow-merges (`merge: true`) the metadata of one or more connections,
   * all or none. @throws unknown_connection
   */
  async setMetadata(
    environmentId: number,
    connectionIds: string[],
    providerConfigKey: string,
    metadata: Record<string, unknown>,
    merge: boolean,
  ): Promise<void> {
    await this.#store.db.transaction().execute(async (trx) => {
      for (const connectionId of connectionIds) {
        const row = await requireConnection(trx, environmentId, connectionId, providerConfigKey);
        const next = merge
          ? { ...(fromJson<Record<string, unknown> | null>(row.metadata) ?? {}), ...metadata }
          : metadata;
        await trx
          .updateTable('connections')
          .set({ metadata: JSON.stringify(next), updated_at: nowIso() })
          .where('id', '=', row.id)
          .execute();
      }
    });
  }
}
