import { interpolateObject, type Provider, type ProviderCatalog } from '@ferry/providers';
import type { Encryptor } from '../crypto/encryption.js';
import { FerryError } from '../errors.js';
import type { Integration, IntegrationService } from '../integrations/service.js';
import type { Logger } from '../logger.js';
import type { ActivityLogWriter } from '../logs/writer.js';
import type { Outbound } from '../outbound/client.js';
import type { Store } from '../store/store.js';
import { fromJson, toIso, toJson } from '../store/values.js';
import { expiryOf, type StoredCredentials } from './credentials.js';
import { requestToken, TokenEndpointError } from './tokenRequest.js';

/** Default margin before expiry within which credentials are refreshed on read. */
export const DEFAULT_REFRESH_MARGIN_MS = 15 * 60 * 1000;
/** After a failed refresh, further attempts wait this long (unless forced). */
export const REFRESH_COOLDOWN_MS = 30 * 1000;
/** Consecutive failures after which a connection is `refresh_exhausted` for automatic refreshes. */
export const MAX_REFRESH_ATTEMPTS = 5;

/** A refresh failure as recorded on the connection and shown in `errors`. */
export interface RefreshFailure {
  type: 'refresh_token_failed' | 'refresh_exhausted';
  message: string;
  at: string;
  attempts: number;
  log_id: string | null;
}

/** Mints new credentials for modes without a refresh token (OAUTH2_CC, APP); the auth code registers these. */
export type CredentialMinter = (args: {
  /** The server's outbound requests. */
  http: Outbound;
  provider: Provider;
  integration: Integration;
  credentials: StoredCredentials;
  connectionConfig: Record<string, unknown>;
}) => Promise<StoredCredentials>;

/** The connection a refresh works on. */
export interface RefreshTarget {
  rowId: number;
  environmentId: number;
  connectionId: string;
  providerConfigKey: string;
  provider: string;
  connectionConfig: Record<string, unknown>;
  credentials: StoredCredentials;
  /** `updated_at` as read by the caller: a newer row means someone else refreshed meanwhile. */
  updatedAt: string;
}

/** Whether credentials expire within `marginMs` (credentials without expiry never do). */
export function isExpiring(credentials: StoredCredentials, marginMs: number, now = Date.now()): boolean {
  const expiresAt = expiryOf(credentials);
  return expiresAt !== null && Date.parse(expiresAt) - now <= marginMs;
}

/**
 * Refreshes credentials ahead of expiry: once per connection inside a process (single flight) and once across
 * processes (a row lock on PostgreSQL, re-reading after it is acquired and skipping if someone else already
 * refreshed). A refresh response without `refresh_token` keeps the old one. Failures are recorded on the connection
 * with a cooldown and, after repeated failures, `refresh_exhausted`.
 */
export class CredentialRefresher {
  readonly #store: Store;
  readonly #encryptor: Encryptor;
  readonly #integrations: IntegrationService;
  readonly #providers: ProviderCatalog;
  readonly #activity: ActivityLogWriter;
  readonly #logger: Logger;
  readonly #http: Outbound;
  readonly #inFlight = new Map<number, Promise<StoredCredentials>>();
  readonly #minters = new Map<string, CredentialMinter>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(deps: {
    store: Store;
    encryptor: Encryptor;
    integrations: IntegrationService;
    providers: ProviderCatalog;
    activity: ActivityLogWriter;
    logger: Logger;
    /** The server's outbound requests (token endpoints). */
    outbound: Outbound;
  }) {
    this.#store = deps.store;
    this.#encryptor = deps.encryptor;
    this.#integrations = deps.integrations;
    this.#providers = deps.providers;
    this.#activity = deps.activity;
    this.#logger = deps.logger;
    this.#http = deps.outbound;
  }

  /** Registers how to mint credentials of a type that has no refresh token (e.g. `OAUTH2_CC`, `APP`). */
  registerMinter(type: StoredCredentials['type'], minter: CredentialMinter): void {
    this.#minters.set(type, minter);
  }

  /** The refresh margin for a provider: its `token_expiration_buffer` (seconds) wins over the default. */
  marginFor(provider: string): number {
    const buffer = this.#providers.get(provider)?.token_expiration_buffer;
    return buffer !== undefined ? buffer * 1000 : DEFAULT_REFRESH_MARGIN_MS;
  }

  /** Whether these credentials can be renewed at all. */
  canRefresh(credentials: StoredCredentials): boolean {
    return (
      (credentials.type === 'OAUTH2' && Boolean(credentials.refresh_token)) ||
      this.#minters.has(credentials.type)
    );
  }

  /**
   * Returns fresh credentials for a connection: the given ones when they are not expiring (and not forced),
   * otherwise refreshed.
   * @throws FerryError `invalid_credentials` (with the failure as payload) when the refresh fails.
   */
  async ensureFresh(target: RefreshTarget, opts: { force?: boolean } = {}): Promise<StoredCredentials> {
    const expiring = isExpiring(target.credentials, this.marginFor(target.provider));
    if (!opts.force && !expiring) return target.credentials;
    if (!this.canRefresh(target.credentials)) {
      if (
        expiring &&
        expiryOf(target.credentials) !== null &&
        Date.parse(expiryOf(target.credentials) ?? '') <= Date.now()
      ) {
        throw new FerryError(
          'invalid_credentials',
          'The credentials have expired and cannot be refreshed (no refresh token).',
          {
            payload: { type: 'refresh_token_missing', connection_id: target.connectionId },
          },
        );
      }
      return target.credentials;
    }
    const running = this.#inFlight.get(target.rowId);
    if (running) return running;
    const p = this.#refresh(target, opts.force === true).finally(() => this.#inFlight.delete(target.rowId));
    this.#inFlight.set(target.rowId, p);
    return p;
  }

  async #refresh(target: RefreshTarget, force: boolean): Promise<StoredCredentials> {
    const outcome = await this.#refreshOnce(target, force);
    // Thrown only now, so that on PostgreSQL the recorded failure is committed with the transaction.
    if (outcome instanceof FerryError) throw outcome;
    return outcome;
  }

  async #refreshOnce(target: RefreshTarget, force: boolean): Promise<StoredCredentials | FerryError> {
    if (this.#store.dialect === 'postgres') {
      return this.#store.db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('connections')
          .select(['credentials_enc', 'updated_at', 'refresh_attempts', 'last_refresh_failure'])
          .where('id', '=', target.rowId)
          .forUpdate()
          .executeTakeFirst();
        return this.#refreshLocked(trx, target, force, row);
      });
    }
    // SQLite: one process owns the file; the single flight above is the lock. No transaction is held across the
    // HTTP call, so other requests keep going while a refresh is in flight.
    const row = await this.#store.db
      .selectFrom('connections')
      .select(['credentials_enc', 'updated_at', 'refresh_attempts', 'last_refresh_failure'])
      .where('id', '=', target.rowId)
      .executeTakeFirst();
    return this.#refreshLocked(this.#store.db, target, force, row);
  }

  async #refreshLocked(
    db: Store['db'],
    target: RefreshTarget,
    force: boolean,
    row:
      | {
          credentials_enc: string;
          updated_at: Date | string;
          refresh_attempts: number;
          last_refresh_failure: unknown;
        }
      | undefined,
  ): Promise<StoredCredentials | FerryError> {
    if (!row)
      throw new FerryError('unknown_connection', `Connection "${target.connectionId}" no longer exists.`);
    const current = this.#encryptor.decryptJson<StoredCredentials>(row.credentials_enc);
    const refreshedMeanwhile = toIso(row.updated_at) !== target.updatedAt;
    // Someone else refreshed while we waited for the lock: use their result.
    if (refreshedMeanwhile && !isExpiring(current, this.marginFor(target.provider))) return current;
    if (!force && !isExpiring(current, this.marginFor(target.provider))) return current;

    const failure = fromJson<RefreshFailure | null>(row.last_refresh_failure);
    if (failure && !force) {
      if (failure.type === 'refresh_exhausted') return this.#error(failure, target);
      if (Date.now() - Date.parse(failure.at) < REFRESH_COOLDOWN_MS) return this.#error(failure, target);
    }

    const op = this.#activity.start({
      environmentId: target.environmentId,
      kind: 'auth',
      name: 'token.refresh',
      integration: target.providerConfigKey,
      connectionId: target.connectionId,
      meta: { force },
    });
    try {
      const next = await this.#callProvider(target, current);
      const now = new Date().toISOString();
      await db
        .updateTable('connections')
        .set({
          credentials_enc: this.#encryptor.encryptJson(next),
          credentials_expires_at: expiryOf(next),
          refresh_attempts: 0,
          last_refresh_failure: null,
          updated_at: now,
        })
        .where('id', '=', target.rowId)
        .execute();
      op.log(
        'info',
        `Refreshed ${next.type} credentials${expiryOf(next) ? `, valid until ${expiryOf(next) ?? ''}` : ''}.`,
      );
      op.end('success');
      return next;
    } catch (err) {
      const attempts = row.refresh_attempts + 1;
      const message = err instanceof Error ? err.message : String(err);
      const recorded: RefreshFailure = {
        type: attempts >= MAX_REFRESH_ATTEMPTS ? 'refresh_exhausted' : 'refresh_token_failed',
        message,
        at: new Date().toISOString(),
        attempts,
        log_id: op.id,
      };
      await db
        .updateTable('connections')
        .set({ refresh_attempts: attempts, last_refresh_failure: toJson(recorded) })
        .where('id', '=', target.rowId)
        .execute();
      op.log(
        'error',
        `Refresh failed (attempt ${attempts}): ${message}`,
        err instanceof TokenEndpointError ? { status: err.status } : undefined,
      );
      op.end('failed');
      return this.#error(recorded, target);
    }
  }

  #error(failure: RefreshFailure, target: RefreshTarget): FerryError {
    const prefix =
      failure.type === 'refresh_exhausted'
        ? 'Refreshing the credentials failed too many times'
        : 'Refreshing the credentials failed';
    return new FerryError('invalid_credentials', `${prefix}: ${failure.message}`, {
      payload: {
        type: failure.type,
        attempts: failure.attempts,
        last_failure_at: failure.at,
        log_id: failure.log_id,
        connection_id: target.connectionId,
      },
    });
  }

  async #callProvider(target: RefreshTarget, current: StoredCredentials): Promise<StoredCredentials> {
    const provider = this.#providers.get(target.provider);
    if (!provider) throw new Error(`provider "${target.provider}" is not in the catalog`);
    const integration = await this.#integrations.get(target.environmentId, target.providerConfigKey);
    if (current.type !== 'OAUTH2') {
      const mint = this.#minters.get(current.type);
      if (!mint) throw new Error(`credentials of type ${current.type} cannot be refreshed`);
      return mint({
        http: this.#http,
        provider,
        integration,
        credentials: current,
        connectionConfig: target.connectionConfig,
      });
    }
    const url =
      provider.refresh_url ?? (typeof provider.token_url === 'string' ? provider.token_url : undefined);
    if (!url) throw new Error(`provider "${target.provider}" has no token URL`);
    if (!current.refresh_token) throw new Error('no refresh token');
    const client = current.config_override ?? {};
    const appCreds =
      integration.credentials && integration.credentials.type !== 'APP' ? integration.credentials : undefined;
    const clientId = client.client_id ?? appCreds?.client_id;
    const clientSecret = client.client_secret ?? appCreds?.client_secret;
    if (!clientId || !clientSecret)
      throw new Error(`integration "${target.providerConfigKey}" has no client credentials`);
    const res = await requestToken({
      http: this.#http,
      url,
      provider,
      clientId,
      clientSecret,
      connectionConfig: target.connectionConfig,
      params: {
        grant_type: 'refresh_token',
        refresh_token: current.refresh_token,
        ...interpolateObject(provider.refresh_params, { connectionConfig: target.connectionConfig }),
      },
    });
    return {
      type: 'OAUTH2',
      access_token: res.accessToken,
      // A provider that omits refresh_token keeps the old one valid.
      refresh_token: res.refreshToken ?? current.refresh_token,
      ...(res.expiresAt ? { expires_at: res.expiresAt } : {}),
      raw: res.raw,
      ...(current.config_override ? { config_override: current.config_override } : {}),
    };
  }

  /**
   * Starts a background sweep that refreshes connections nearing expiry, so idle connections stay alive.
   * Every process may run it: the refresh lock makes concurrent sweeps harmless.
   */
  startSweep(intervalMs = 60_000): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => {
      this.sweepOnce().catch((err: unknown) => this.#logger.error({ err }, 'refresh sweep failed'));
    }, intervalMs);
    this.#sweep.unref();
  }

  /** Stops the sweep. */
  stopSweep(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** Refreshes every connection whose credentials expire within the default margin; returns how many it refreshed. */
  async sweepOnce(limit = 100): Promise<number> {
    const horizon = new Date(Date.now() + DEFAULT_REFRESH_MARGIN_MS).toISOString();
    const rows = await this.#store.db
      .selectFrom('connections as c')
      .innerJoin('integrations as i', 'i.id', 'c.integration_id')
      .select([
        'c.id',
        'c.environment_id',
        'c.connection_id',
        'c.credentials_enc',
        'c.connection_config',
        'c.updated_at',
        'i.unique_key',
        'i.provider',
      ])
      .where('c.credentials_expires_at', 'is not', null)
      .where('c.credentials_expires_at', '<=', horizon)
      .where('c.refresh_attempts', '<', MAX_REFRESH_ATTEMPTS)
      .orderBy('c.credentials_expires_at')
      .limit(limit)
      .execute();
    let refreshed = 0;
    for (const r of rows) {
      const credentials = this.#encryptor.decryptJson<StoredCredentials>(r.credentials_enc);
      if (!this.canRefresh(credentials)) continue;
      try {
        await this.ensureFresh({
          rowId: r.id,
          environmentId: r.environment_id,
          connectionId: r.connection_id,
          providerConfigKey: r.unique_key,
          provider: r.provider,
          connectionConfig: fromJson<Record<string, unknown>>(r.connection_config),
          credentials,
          updatedAt: toIso(r.updated_at),
        });
        refreshed++;
      } catch {
        // recorded on the connection
      }
    }
    return refreshed;
  }
}
