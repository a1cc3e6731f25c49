import { randomBytes } from 'node:crypto';
import { hashSecret } from '../environments/service.js';
import { FerryError } from '../errors.js';
import { checkInterpolatedValues } from '../connections/configCheck.js';
import type { IntegrationService } from '../integrations/service.js';
import type { Store } from '../store/store.js';
import { fromJson, toIso, toJson } from '../store/values.js';
import {
  endUserColumns,
  toApiEndUser,
  upsertEndUser,
  type ApiEndUser,
  type EndUserInput,
  type OrganizationInput,
} from '../connections/endUsers.js';

/** How long a connect session lives. */
export const CONNECT_SESSION_TTL_MS = 30 * 60 * 1000;
/** The prefix of every connect session token. */
export const CONNECT_SESSION_PREFIX = 'ferry_connect_session_';

/** Per-integration defaults a connect session applies. */
export interface IntegrationConfigDefaults {
  user_scopes?: string | undefined;
  authorization_params?: Record<string, string> | undefined;
  connection_config?: Record<string, unknown> | undefined;
}

export interface CreateSessionInput {
  end_user?: EndUserInput | undefined;
  organization?: OrganizationInput | undefined;
  allowed_integrations?: string[] | undefined;
  integrations_config_defaults?: Record<string, IntegrationConfigDefaults> | undefined;
  tags?: Record<string, string> | undefined;
}

export interface ReconnectSessionInput extends Omit<CreateSessionInput, 'allowed_integrations'> {
  connection_id: string;
  integration_id: string;
}

/** A live connect session, resolved from its token. */
export interface ConnectSession {
  id: number;
  environmentId: number;
  endUser: ApiEndUser | null;
  organization: { id: string; display_name: string | null } | null;
  allowedIntegrations: string[] | null;
  integrationsConfigDefaults: Record<string, IntegrationConfigDefaults> | null;
  tags: Record<string, string>;
  reconnectConnectionId: number | null;
  expiresAt: string;
}

/** The session as `GET /connect/session` returns it. */
export interface ApiConnectSession {
  allowed_integrations: string[] | null;
  integrations_config_defaults: Record<string, IntegrationConfigDefaults> | null;
  end_user: ApiEndUser | null;
  organization: { id: string; display_name: string | null } | null;
  tags: Record<string, string>;
  is_reconnecting: boolean;
  expires_at: string;
}

/** Connect sessions: short-lived, hashed, scoped tokens that let an end user's browser create a connection. */
export class ConnectSessionService {
  readonly #store: Store;
  readonly #integrations: IntegrationService;
  readonly #serverUrl: string;

  constructor(deps: { store: Store; integrations: IntegrationService; serverUrl: string }) {
    this.#store = deps.store;
    this.#integrations = deps.integrations;
    this.#serverUrl = deps.serverUrl;
  }

  async #checkIntegrations(environmentId: number, keys: string[], field: string): Promise<void> {
    for (const key of keys) {
      if (!(await this.#integrations.find(environmentId, key))) {
        throw new FerryError('invalid_body', `Integration "${key}" does not exist.`, {
          errors: [{ path: field, message: `unknown integration ${key}` }],
        });
      }
    }
  }

  /**
   * Creates a session.
   * @throws invalid_body when an allowed or defaulted integration does not exist, or a default connection-config
   *   value does not fit where the provider interpolates it
   */
  async create(
    environmentId: number,
    input: CreateSessionInput,
    reconnectConnectionId: number | null = null,
  ) {
    if (input.allowed_integrations)
      await this.#checkIntegrations(environmentId, input.allowed_integrations, 'allowed_integrations');
    if (input.integrations_config_defaults) {
      await this.#checkIntegrations(
        environmentId,
        Object.keys(input.integrations_config_defaults),
        'integrations_config_defaults',
      );
    }
    for (const [key, defaults] of Object.entries(input.integrations_config_defaults ?? {})) {
      const integration = await this.#integrations.find(environmentId, key);
      const provider = integration && this.#integrations.providerOf(integration.provider);
      if (provider && defaults.connection_config) {
        checkInterpolatedValues(provider, {
          connectionConfig: {
            value: defaults.connection_config,
            field: `integrations_config_defaults.${key}.connection_config`,
          },
        });
      }
    }
    const token = CONNECT_SESSION_PREFIX + randomBytes(32).toString('hex');
    const expiresAt = new Date(Date.now() + CONNECT_SESSION_TTL_MS).toISOString();
    const now = new Date().toISOString();
    await this.#store.db.transaction().execute(async (trx) => {
      const endUserRowId = input.end_user
        ? await upsertEndUser(trx, environmentId, input.end_user, input.organization)
        : null;
      await trx
        .insertInto('connect_sessions')
        .values({
          environment_id: environmentId,
          token_hash: hashSecret(token),
          end_user_id: endUserRowId,
          organization: toJson(input.organization ?? null),
          allowed_integrations: toJson(input.allowed_integrations ?? null),
          integrations_config_defaults: toJson(input.integrations_config_defaults ?? null),
          tags: toJson(input.tags ?? {}) ?? '{}',
          reconnect_connection_id: reconnectConnectionId,
          expires_at: expiresAt,
          created_at: now,
        })
        .execute();
      // Expired sessions are useless; clear them as new ones come.
      await trx.deleteFrom('connect_sessions').where('expires_at', '<', now).execute();
    });
    return {
      token,
      connect_link: `${this.#serverUrl}/connect?session_token=${token}`,
      expires_at: expiresAt,
    };
  }

  /** Creates a session that re-authorizes an existing connection in place. @throws unknown_connection */
  async createReconnect(environmentId: number, input: ReconnectSessionInput) {
    const row = await this.#store.db
      .selectFrom('connections as c')
      .innerJoin('integrations as i', 'i.id', 'c.integration_id')
      .select('c.id')
      .where('c.environment_id', '=', environmentId)
      .where('c.connection_id', '=', input.connection_id)
      .where('i.unique_key', '=', input.integration_id)
      .executeTakeFirst();
    if (!row)
      throw new FerryError(
        'unknown_connection',
        `Connection "${input.connection_id}" for integration "${input.integration_id}" does not exist.`,
      );
    return this.create(environmentId, { ...input, allowed_integrations: [input.integration_id] }, row.id);
  }

  /** Resolves a token to its live session. @throws invalid_connect_session_token */
  async resolve(token: string): Promise<ConnectSession> {
    const row = await this.#store.db
      .selectFrom('connect_sessions as s')
      .leftJoin('end_users as u', 'u.id', 's.end_user_id')
      .select([
        's.id',
        's.environment_id',
        's.organization',
        's.allowed_integrations',
        's.integrations_config_defaults',
        's.tags',
        's.reconnect_connection_id',
        's.expires_at',
        ...endUserColumns,
      ])
      .where('s.token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    if (!row || new Date(toIso(row.expires_at)).getTime() <= Date.now()) {
      throw new FerryError(
        'invalid_connect_session_token',
        'The connect session token is invalid or has expired.',
      );
    }
    return {
      id: row.id,
      environmentId: row.environment_id,
      endUser: toApiEndUser({ ...row, tags: row.end_user_tags }),
      organization: fromJson(row.organization),
      allowedIntegrations: fromJson(row.allowed_integrations),
      integrationsConfigDefaults: fromJson(row.integrations_config_defaults),
      tags: fromJson(row.tags),
      reconnectConnectionId: row.reconnect_connection_id,
      expiresAt: toIso(row.expires_at),
    };
  }

  /** Shapes a session for the API. */
  toApi(s: ConnectSession): ApiConnectSession {
    return {
      allowed_integrations: s.allowedIntegrations,
      integrations_config_defaults: s.integrationsConfigDefaults,
      end_user: s.endUser,
      organization: s.organization,
      tags: s.tags,
      is_reconnecting: s.reconnectConnectionId !== null,
      expires_at: s.expiresAt,
    };
  }

  /** Deletes a session. */
  async delete(id: number): Promise<void> {
    await this.#store.db.deleteFrom('connect_sessions').where('id', '=', id).execute();
  }
}
