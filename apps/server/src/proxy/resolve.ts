import { tryInterpolate, type Provider, type ProviderCatalog } from '@ferry/providers';
import type { ConnectionService } from '../connections/service.js';
import { FerryError } from '../errors.js';
import type { BaseUrlOverridePolicy, IntegrationService } from '../integrations/service.js';
import { injectAuth, interpolationContext, type InjectedAuth } from './auth.js';
import type { ProxySettings } from './settings.js';
import { parseBaseUrl } from './target.js';

/** What a connection brings to a request: its provider, the auth to inject and the base URL. */
export interface Resolved {
  provider: Provider;
  auth: InjectedAuth;
  /** The provider's base URL for this connection, if its template resolves. */
  base: URL | undefined;
  /** The integration's own `Base-Url-Override` policy; null follows the server setting. */
  overridePolicy: BaseUrlOverridePolicy | null;
}

/** Which connection a request uses, and the base URL it asks for. */
export interface ConnectionRef {
  environmentId: number;
  connectionId: string;
  providerConfigKey: string;
  baseUrlOverride?: string | undefined;
}

function keyOf(ref: ConnectionRef): string {
  return `${ref.environmentId}\u0000${ref.providerConfigKey}\u0000${ref.connectionId}`;
}

/**
 * Reads connections for the proxy (credentials refreshed ahead of expiry by the connection service) and
 * keeps what it worked out for `connectionCacheMs`, so that a busy connection costs one credential read per
 * interval rather than one per request. A forced refresh (after a 401) always reads.
 */
export class ConnectionResolver {
  readonly #connections: Pick<ConnectionService, 'get'>;
  readonly #integrations: Pick<IntegrationService, 'find'>;
  readonly #providers: ProviderCatalog;
  readonly #settings: ProxySettings;
  readonly #cache = new Map<string, Resolved & { until: number }>();

  constructor(
    deps: {
      connections: Pick<ConnectionService, 'get'>;
      integrations: Pick<IntegrationService, 'find'>;
      providers: ProviderCatalog;
    },
    settings: ProxySettings,
  ) {
    this.#connections = deps.connections;
    this.#integrations = deps.integrations;
    this.#providers = deps.providers;
    this.#settings = settings;
  }

  /**
   * The connection's provider, auth and base URL.
   * @param forceRefresh - Refresh the credentials now (after a 401), bypassing the cache.
   * @throws FerryError `unknown_connection`, `invalid_credentials`, `unknown_provider_config`, `invalid_headers`.
   */
  async resolve(ref: ConnectionRef, forceRefresh: boolean): Promise<Resolved> {
    const key = keyOf(ref);
    const now = Date.now();
    if (!forceRefresh) {
      const hit = this.#cache.get(key);
      if (hit && hit.until > now) return hit;
    }
    const resolved = await this.#read(ref, forceRefresh);
    const ttl = this.#settings.connectionCacheMs;
    if (ttl > 0) {
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(key, { ...resolved, until: now + ttl });
    }
    return resolved;
  }

  /** The cached resolution of a connection, if still fresh (no await on the hot path). */
  peek(ref: ConnectionRef): Resolved | undefined {
    const hit = this.#cache.get(keyOf(ref));
    return hit && hit.until > Date.now() ? hit : undefined;
  }

  async #read(ref: ConnectionRef, forceRefresh: boolean): Promise<Resolved> {
    const { environmentId, connectionId, providerConfigKey } = ref;
    const conn = await this.#connections.get(environmentId, connectionId, providerConfigKey, {
      refreshToken: false,
      forceRefresh,
    });
    const provider = this.#providers.get(conn.provider);
    if (!provider)
      throw new FerryError('unknown_provider_config', `Provider "${conn.provider}" is not in the catalog.`);
    const integration = await this.#integrations.find(environmentId, providerConfigKey);
    let consumer;
    if (conn.credentials.type === 'OAUTH1') {
      const c = integration?.credentials;
      if (c && c.type !== 'APP') consumer = { key: c.client_id, secret: c.client_secret };
    }
    const auth = injectAuth({
      provider,
      credentials: conn.credentials,
      connectionConfig: conn.connection_config,
      consumer,
    });
    const template = provider.proxy?.base_url;
    const ctx = interpolationContext(conn.credentials, conn.connection_config);
    const base = template ? tryInterpolate(template, ctx) : undefined;
    return {
      provider,
      auth,
      base: base ? parseBaseUrl(base, 'The provider base URL') : undefined,
      overridePolicy: integration?.proxyBaseUrlOverride ?? null,
    };
  }

  /**
   * The base URL a request goes to: the provider's, or `Base-Url-Override` when allowed — by the integration's
   * own policy when it has one, else by the server setting (`same-host`: only the provider's own host; `any`;
   * `off`). The SSRF guard still applies to whatever host is chosen.
   * @throws FerryError `unknown_provider_config` without a base URL, `forbidden_url` for a refused override.
   */
  target(ref: ConnectionRef, base: URL | undefined, policy: BaseUrlOverridePolicy | null = null): URL {
    if (!ref.baseUrlOverride) {
      if (!base)
        throw new FerryError(
          'unknown_provider_config',
          'The provider has no proxy base URL for this connection.',
        );
      return base;
    }
    const override = parseBaseUrl(ref.baseUrlOverride, 'Base-Url-Override');
    const mode = policy ?? this.#settings.baseUrlOverride;
    if (mode === 'any' || (mode === 'same-host' && base && override.host === base.host)) return override;
    throw new FerryError(
      'forbidden_url',
      mode === 'off'
        ? 'Base-Url-Override is not allowed for this integration.'
        : "Base-Url-Override may only point at the provider's own host for this integration.",
    );
  }
}
