import type { Provider, ProviderCatalog } from '@ferry/providers';
import type { StoredCredentials } from '../connections/credentials.js';
import type { Encryptor } from '../crypto/encryption.js';
import { FerryError, toFerryError } from '../errors.js';
import { publicLinkOf, type Integration, type IntegrationService } from '../integrations/service.js';
import type { ActivityLogWriter } from '../logs/writer.js';
import type { Outbound } from '../outbound/client.js';
import type { Store } from '../store/store.js';
import { flowContextFor, type Caller, type FlowRequest } from './caller.js';
import { ConnectionWriter } from './connectionWriter.js';
import { FlowStore, type FinalOutcome, type FlowContext } from './flows.js';
import { mintCredentials } from './mint.js';
import { OAuthSessionStore } from './oauthSessions.js';
import { authorizeUrl, scopesOf } from './oauth2.js';
import { oauth1RequestToken } from './oauth1.js';
import { checkConnectionParams } from './params.js';
import { checkInterpolatedValues } from '../connections/configCheck.js';
import { randomSecret } from './pkce.js';
import { verifyCredentials } from './verify.js';

/** Auth modes that go through the popup (a redirect to the provider and back). */
export const REDIRECT_MODES = ['OAUTH2', 'OAUTH1', 'APP'] as const;

/** Credentials posted by the non-redirect routes. */
export type DirectCredentials =
  | { type: 'API_KEY'; apiKey: string }
  | { type: 'BASIC'; username: string; password: string }
  | { type: 'NONE' }
  | { type: 'OAUTH2_CC'; client_id?: string | undefined; client_secret?: string | undefined };

/** Dependencies of the auth service. */
export interface AuthDeps {
  store: Store;
  encryptor: Encryptor;
  providers: ProviderCatalog;
  integrations: IntegrationService;
  activity: ActivityLogWriter;
  serverUrl: string;
  /** The server's outbound requests (verification, token and OAuth 1 endpoints). */
  outbound: Outbound;
}

/** The auth flows: browser popups (OAuth 2, OAuth 1, GitHub App) and the credential forms (API key, basic, none, client credentials). */
export class AuthService {
  readonly flows: FlowStore;
  readonly oauthSessions: OAuthSessionStore;
  readonly writer: ConnectionWriter;
  readonly #deps: AuthDeps;

  constructor(deps: AuthDeps) {
    this.#deps = deps;
    this.flows = new FlowStore(deps.store);
    this.oauthSessions = new OAuthSessionStore(deps);
    this.writer = new ConnectionWriter(deps);
  }

  /** The server's outbound requests, for the callback's token exchanges. */
  get http(): Outbound {
    return this.#deps.outbound;
  }

  /** The callback URL providers send the user back to. */
  get callbackUrl(): string {
    return `${this.#deps.serverUrl}/oauth/callback`;
  }

  /** Whether cookies must be Secure (the server is served over https). */
  get secureCookies(): boolean {
    return this.#deps.serverUrl.startsWith('https:');
  }

  /**
   * Loads an integration and its provider.
   * @throws unknown_provider_config
   */
  async integration(
    environmentId: number,
    key: string,
  ): Promise<{ integration: Integration; provider: Provider }> {
    const integration = await this.#deps.integrations.find(environmentId, key);
    const provider = integration ? this.#deps.providers.get(integration.provider) : undefined;
    if (!integration || !provider)
      throw new FerryError('unknown_provider_config', `Integration "${key}" does not exist.`);
    return { integration, provider };
  }

  /**
   * Creates a popup flow for a caller: checks the integration is allowed and uses a redirect auth mode.
   * @returns the flow id, the secret that reads its result, and the URL to open in the popup
   * @throws integration_not_allowed, unknown_provider_config, auth_mode_err, invalid_body (a connection-config
   *   value that does not fit where the provider interpolates it)
   */
  async createFlow(caller: Caller, key: string, request: FlowRequest, origin: string | null) {
    const context = flowContextFor(caller, key, request);
    const { provider } = await this.integration(caller.environmentId, key);
    checkConnectionParams(provider, request.params);
    checkInterpolatedValues(provider, {
      connectionConfig: { value: context.connectionConfig, field: 'params' },
    });
    if (!(REDIRECT_MODES as readonly string[]).includes(provider.auth_mode)) {
      throw new FerryError(
        'auth_mode_err',
        `Integration "${key}" uses ${provider.auth_mode}, which has no popup flow.`,
      );
    }
    const flow = await this.flows.create({
      environmentId: caller.environmentId,
      providerConfigKey: key,
      origin,
      context,
    });
    const url = `${this.#deps.serverUrl}/oauth/connect/${encodeURIComponent(key)}?flow_id=${encodeURIComponent(flow.id)}`;
    return { flow_id: flow.id, flow_secret: flow.secret, url, expires_at: flow.expiresAt };
  }

  /**
   * Starts a created flow: makes the single-use OAuth session (state, PKCE verifier or OAuth 1 request-token
   * secret) bound to the cookie `bindCookie` sets, and returns the provider URL to redirect to.
   * @throws not_found (unknown, expired or already started flow), missing_client_credentials, token_err
   */
  async start(flowId: string, key: string, bindCookie: (state: string) => string): Promise<string> {
    const flow = await this.flows.get(flowId);
    if (!flow || flow.providerConfigKey !== key || !(await this.flows.markRedirected(flowId))) {
      throw new FerryError('not_found', 'This auth flow does not exist, has expired or was already started.');
    }
    try {
      const { integration, provider } = await this.integration(flow.environmentId, key);
      const state = this.oauthSessions.newState();
      const { url, secrets } = await this.#providerUrl(integration, provider, flow.context, state);
      await this.oauthSessions.create({
        state,
        flowId,
        cookieHash: bindCookie(state),
        authMode: provider.auth_mode,
        secrets: { ...secrets, redirectUri: this.callbackUrl },
      });
      return url;
    } catch (err) {
      const e = toFerryError(err);
      await this.flows.finish(flowId, { status: 'error', error: { code: e.code, message: e.message } });
      throw err;
    }
  }

  async #providerUrl(integration: Integration, provider: Provider, ctx: FlowContext, state: string) {
    const c = integration.credentials;
    if (provider.auth_mode === 'APP') {
      if (c?.type !== 'APP')
        throw new FerryError(
          'missing_client_credentials',
          `Integration "${integration.uniqueKey}" has no GitHub App credentials.`,
        );
      ctx.connectionConfig.appPublicLink ??= publicLinkOf(c.app_link);
      const url = new URL(
        authorizeUrl({
          provider,
          clientId: '',
          scopes: '',
          ctx,
          state,
          redirectUri: '',
          codeVerifier: undefined,
        }),
      );
      for (const p of ['response_type', 'client_id', 'redirect_uri']) url.searchParams.delete(p);
      return { url: url.toString(), secrets: {} };
    }
    if (!c || c.type === 'APP' || !c.client_id) {
      throw new FerryError(
        'missing_client_credentials',
        `Integration "${integration.uniqueKey}" has no client id and secret.`,
      );
    }
    if (provider.auth_mode === 'OAUTH1') {
      const callback = new URL(this.callbackUrl);
      callback.searchParams.set('state', state);
      const r = await this.#asTokenErr(() =>
        oauth1RequestToken({
          http: this.#deps.outbound,
          provider,
          consumerKey: c.client_id,
          consumerSecret: c.client_secret,
          callbackUrl: callback.toString(),
          connectionConfig: ctx.connectionConfig,
        }),
      );
      return { url: r.authorizeUrl, secrets: { requestTokenSecret: r.requestTokenSecret } };
    }
    const codeVerifier = provider.disable_pkce ? undefined : randomSecret(48);
    const url = authorizeUrl({
      provider,
      clientId: c.client_id,
      scopes: scopesOf(provider, c.scopes, ctx),
      ctx,
      state,
      redirectUri: this.callbackUrl,
      codeVerifier,
    });
    return { url, secrets: codeVerifier ? { codeVerifier } : {} };
  }

  async #asTokenErr<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if ((err as { name?: unknown }).name === 'TokenEndpointError') {
        throw new FerryError('token_err', `The provider refused: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Creates a connection from credentials posted by the browser (API key, basic, none, client credentials),
   * testing API-key and basic credentials against the provider first.
   * @throws integration_not_allowed, unknown_provider_config, auth_mode_err, connection_test_failed, token_err,
   *   missing_client_credentials, invalid_body (a connection-config value or credential that does not fit where the
   *   provider interpolates it)
   */
  async createDirect(caller: Caller, key: string, credentials: DirectCredentials, request: FlowRequest) {
    const context = flowContextFor(caller, key, request);
    const { integration, provider } = await this.integration(caller.environmentId, key);
    checkConnectionParams(provider, request.params);
    checkInterpolatedValues(provider, {
      connectionConfig: { value: context.connectionConfig, field: 'connection_config' },
      credentials: { value: credentials, field: '' },
    });
    if (provider.auth_mode !== credentials.type) {
      throw new FerryError(
        'auth_mode_err',
        `Integration "${key}" uses ${provider.auth_mode}, not ${credentials.type}.`,
      );
    }
    let stored: StoredCredentials;
    try {
      stored = await this.#directCredentials(integration, provider, credentials, context);
    } catch (err) {
      const e = toFerryError(err);
      await this.writer.recordEvent({
        environmentId: caller.environmentId,
        integration,
        authMode: provider.auth_mode,
        connectionId: context.connectionId ?? '',
        operation: 'failure',
        endUserRowId: context.endUserRowId,
        error: { code: e.code, message: e.message },
      });
      throw err;
    }
    const saved = await this.writer.save({
      environmentId: caller.environmentId,
      integration,
      authMode: provider.auth_mode,
      credentials: stored,
      connectionConfig: context.connectionConfig,
      context,
    });
    return { providerConfigKey: key, connectionId: saved.connectionId };
  }

  async #directCredentials(
    integration: Integration,
    provider: Provider,
    credentials: DirectCredentials,
    context: FlowContext,
  ): Promise<StoredCredentials> {
    if (credentials.type === 'OAUTH2_CC') {
      const client = credentials.client_id
        ? { client_id: credentials.client_id, client_secret: credentials.client_secret ?? '' }
        : undefined;
      return this.#asTokenErr(() =>
        mintCredentials({
          http: this.#deps.outbound,
          provider,
          integrationCredentials: integration.credentials,
          connectionConfig: context.connectionConfig,
          client,
        }),
      );
    }
    if (credentials.type !== 'NONE') {
      await verifyCredentials({
        http: this.#deps.outbound,
        provider,
        credentials,
        connectionConfig: context.connectionConfig,
      });
    }
    return credentials;
  }

  /** The result of a flow for its secret holder, waiting up to `waitMs`; undefined for a wrong id or secret. */
  waitResult(
    flowId: string,
    secret: string,
    waitMs: number,
    signal?: AbortSignal,
  ): ReturnType<FlowStore['wait']> {
    return this.flows.wait(flowId, secret, { waitMs, ...(signal ? { signal } : {}) });
  }

  /** Records a flow's outcome. */
  finish(flowId: string, outcome: FinalOutcome): Promise<void> {
    return this.flows.finish(flowId, outcome);
  }
}
