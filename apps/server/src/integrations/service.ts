import type { Provider, ProviderCatalog } from '@ferry/providers';
import type { Encryptor } from '../crypto/encryption.js';
import { placementProblem } from '../connections/configCheck.js';
import { FerryError } from '../errors.js';
import type { Store } from '../store/store.js';
import { isUniqueViolation, nowIso, toIso } from '../store/values.js';
import type { IntegrationsTable } from '../store/schema.js';
import type { Selectable } from 'kysely';

/** Where a caller may point the proxy's `Base-Url-Override` for an integration. */
export type BaseUrlOverridePolicy = 'off' | 'same-host' | 'any';

/** Client credentials of an integration (the OAuth app), as stored encrypted. */
export type IntegrationCredentials =
  | {
      type: 'OAUTH2' | 'OAUTH1';
      client_id: string;
      client_secret: string;
      scopes?: string | null | undefined;
      webhook_secret?: string | null | undefined;
    }
  | { type: 'APP'; app_id: string; app_link: string; private_key: string };

/** An integration as the public API returns it. */
export interface ApiIntegration {
  unique_key: string;
  provider: string;
  display_name: string;
  logo: string;
  forward_webhooks: boolean;
  proxy_base_url_override: BaseUrlOverridePolicy | null;
  created_at: string;
  updated_at: string;
  webhook_url?: string | null;
  credentials?: (IntegrationCredentials & { scopes?: string | null; webhook_secret?: string | null }) | null;
}

/** The stored integration with its decrypted credentials, for other services. */
export interface Integration {
  id: number;
  environmentId: number;
  uniqueKey: string;
  provider: string;
  displayName: string;
  forwardWebhooks: boolean;
  /** Where callers may point `Base-Url-Override`; null follows the server's setting. */
  proxyBaseUrlOverride: BaseUrlOverridePolicy | null;
  credentials: IntegrationCredentials | null;
  createdAt: string;
  updatedAt: string;
}

export interface CreateIntegrationInput {
  provider: string;
  unique_key: string;
  display_name?: string | undefined;
  credentials?: IntegrationCredentials | undefined;
  forward_webhooks?: boolean | undefined;
  proxy_base_url_override?: BaseUrlOverridePolicy | null | undefined;
}

export type UpdateIntegrationInput = Partial<Omit<CreateIntegrationInput, 'provider'>>;

/** Which optional parts `GET /integrations/:key` includes. */
export interface IncludeOptions {
  webhook?: boolean;
  credentials?: boolean;
}

function duplicateOr(err: unknown, uniqueKey: unknown): unknown {
  return isUniqueViolation(err)
    ? new FerryError(
        'duplicate_integration',
        `An integration with unique key "${String(uniqueKey)}" already exists.`,
      )
    : err;
}

/** Integrations: one provider configured with its OAuth app credentials, per environment. */
export class IntegrationService {
  readonly #deleted: (() => void)[] = [];
  readonly #deleting: ((environmentId: number, uniqueKey: string) => Promise<() => Promise<void>>)[] = [];
  readonly #store: Store;
  readonly #encryptor: Encryptor;
  readonly #providers: ProviderCatalog;
  readonly #serverUrl: string;

  constructor(deps: { store: Store; encryptor: Encryptor; providers: ProviderCatalog; serverUrl: string }) {
    this.#store = deps.store;
    this.#encryptor = deps.encryptor;
    this.#providers = deps.providers;
    this.#serverUrl = deps.serverUrl;
  }

  #toDomain(row: Selectable<IntegrationsTable>): Integration {
    return {
      id: row.id,
      environmentId: row.environment_id,
      uniqueKey: row.unique_key,
      provider: row.provider,
      displayName: row.display_name,
      forwardWebhooks: row.forward_webhooks === 1,
      proxyBaseUrlOverride: (row.proxy_base_url_override as BaseUrlOverridePolicy | null) ?? null,
      credentials: row.credentials_enc
        ? this.#encryptor.decryptJson<IntegrationCredentials>(row.credentials_enc)
        : null,
      createdAt: toIso(row.created_at),
      updatedAt: toIso(row.updated_at),
    };
  }

  /** Shapes an integration for the API. */
  toApi(i: Integration, env: { name: string }, include: IncludeOptions = {}): ApiIntegration {
    const out: ApiIntegration = {
      unique_key: i.uniqueKey,
      provider: i.provider,
      display_name: i.displayName,
      logo: `${this.#serverUrl}/images/providers/${encodeURIComponent(i.provider)}.svg`,
      forward_webhooks: i.forwardWebhooks,
      proxy_base_url_override: i.proxyBaseUrlOverride,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
    };
    if (include.webhook)
      out.webhook_url = `${this.#serverUrl}/webhook/${encodeURIComponent(env.name)}/${encodeURIComponent(i.uniqueKey)}`;
    if (include.credentials) {
      const c = i.credentials;
      out.credentials = c
        ? c.type === 'APP'
          ? { ...c }
          : {
              type: c.type,
              client_id: c.client_id,
              client_secret: c.client_secret,
              scopes: c.scopes ?? null,
              webhook_secret: c.webhook_secret ?? null,
            }
        : null;
    }
    return out;
  }

  /** A provider of the catalog, or undefined for an unknown provider. */
  providerOf(provider: string): Provider | undefined {
    return this.#providers.get(provider);
  }

  /** The auth mode of a provider in the catalog, or undefined for an unknown provider. */
  authModeOf(provider: string): string | undefined {
    return this.#providers.get(provider)?.auth_mode;
  }

  /** Lists the environment's integrations, oldest first. */
  async list(environmentId: number): Promise<Integration[]> {
    const rows = await this.#store.db
      .selectFrom('integrations')
      .selectAll()
      .where('environment_id', '=', environmentId)
      .orderBy('id')
      .execute();
    return rows.map((r) => this.#toDomain(r));
  }

  /** Finds an integration by unique key, or undefined. */
  async find(environmentId: number, uniqueKey: string): Promise<Integration | undefined> {
    const row = await this.#store.db
      .selectFrom('integrations')
      .selectAll()
      .where('environment_id', '=', environmentId)
      .where('unique_key', '=', uniqueKey)
      .executeTakeFirst();
    return row ? this.#toDomain(row) : undefined;
  }

  /** Gets an integration by unique key. @throws not_found */
  async get(environmentId: number, uniqueKey: string): Promise<Integration> {
    const found = await this.find(environmentId, uniqueKey);
    if (!found) throw new FerryError('not_found', `Integration "${uniqueKey}" does not exist.`);
    return found;
  }

  #checkCredentials(provider: string, credentials: IntegrationCredentials | undefined): void {
    if (!credentials) return;
    const p = this.#providers.get(provider);
    const mode = p?.auth_mode;
    const fits =
      credentials.type === 'APP'
        ? mode === 'APP'
        : credentials.type === mode || (credentials.type === 'OAUTH2' && mode === 'OAUTH2_CC');
    if (!fits) {
      throw new FerryError(
        'invalid_body',
        `Credentials of type ${credentials.type} do not fit provider "${provider}" (auth mode ${String(mode)}).`,
        {
          errors: [
            { path: 'credentials.type', message: `expected credentials for auth mode ${String(mode)}` },
          ],
        },
      );
    }
    if (credentials.type === 'APP') {
      // Its last segment becomes `${connectionConfig.appPublicLink}` in the app's install URL path.
      const problem = placementProblem('path', publicLinkOf(credentials.app_link));
      if (problem) {
        throw new FerryError(
          'invalid_body',
          `Invalid body. credentials.app_link: its last segment ${problem}.`,
          {
            errors: [{ path: 'credentials.app_link', message: `its last segment ${problem}` }],
          },
        );
      }
    }
  }

  /** Creates an integration. @throws invalid_body (unknown provider, credentials of the wrong type), duplicate_integration */
  async create(environmentId: number, input: CreateIntegrationInput): Promise<Integration> {
    const provider = this.#providers.get(input.provider);
    if (!provider) {
      throw new FerryError('invalid_body', `Provider "${input.provider}" is not in the catalog.`, {
        errors: [{ path: 'provider', message: 'unknown provider' }],
      });
    }
    this.#checkCredentials(input.provider, input.credentials);
    const now = nowIso();
    try {
      const row = await this.#store.db
        .insertInto('integrations')
        .values({
          environment_id: environmentId,
          unique_key: input.unique_key,
          provider: input.provider,
          display_name: input.display_name ?? provider.display_name,
          credentials_enc: input.credentials ? this.#encryptor.encryptJson(input.credentials) : null,
          forward_webhooks: input.forward_webhooks === false ? 0 : 1,
          proxy_base_url_override: input.proxy_base_url_override ?? null,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.#toDomain(row);
    } catch (err) {
      throw duplicateOr(err, input.unique_key);
    }
  }

  /** Updates an integration. @throws not_found, duplicate_integration, invalid_body */
  async update(
    environmentId: number,
    uniqueKey: string,
    input: UpdateIntegrationInput,
  ): Promise<Integration> {
    const current = await this.get(environmentId, uniqueKey);
    this.#checkCredentials(current.provider, input.credentials);
    const set: Partial<Selectable<IntegrationsTable>> = { updated_at: nowIso() };
    if (input.unique_key !== undefined) set.unique_key = input.unique_key;
    if (input.display_name !== undefined) set.display_name = input.display_name;
    if (input.forward_webhooks !== undefined) set.forward_webhooks = input.forward_webhooks ? 1 : 0;
    if (input.proxy_base_url_override !== undefined)
      set.proxy_base_url_override = input.proxy_base_url_override;
    if (input.credentials !== undefined) set.credentials_enc = this.#encryptor.encryptJson(input.credentials);
    try {
      const row = await this.#store.db
        .updateTable('integrations')
        .set(set)
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return this.#toDomain(row);
    } catch (err) {
      throw duplicateOr(err, String(input.unique_key));
    }
  }

  /**
   * Deletes an integration and, by cascade, its connections and scripts; then tells the listeners.
   * @throws not_found
   */
  async delete(environmentId: number, uniqueKey: string): Promise<void> {
    // What goes with the integration, read before the cascade removes it; told only once the delete happened.
    const afterDelete = await Promise.all(
      this.#deleting.map((listener) => listener(environmentId, uniqueKey)),
    );
    const res = await this.#store.db
      .deleteFrom('integrations')
      .where('environment_id', '=', environmentId)
      .where('unique_key', '=', uniqueKey)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0)
      throw new FerryError('not_found', `Integration "${uniqueKey}" does not exist.`);
    for (const listener of this.#deleted) listener();
    for (const after of afterDelete) await after();
  }

  /**
   * Calls `listener` before an integration is deleted, to read what the cascade will remove; the function it
   * returns is called after the delete (not when it fails).
   */
  onDeleting(listener: (environmentId: number, uniqueKey: string) => Promise<() => Promise<void>>): void {
    this.#deleting.push(listener);
  }

  /** Calls `listener` after an integration (and so its connections) was deleted. */
  onDeleted(listener: () => void): void {
    this.#deleted.push(listener);
  }
}

/** The GitHub App's public link (the last segment of its `app_link`), as the install URL uses it. */
export function publicLinkOf(appLink: string): string {
  return appLink.replace(/\/+$/, '').split('/').pop() ?? '';
}
