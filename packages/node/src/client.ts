import { resolveOptions, type FerryOptions } from './options.js';
import { fromProxyResponse, toProxyRequest, type ProxyConfiguration, type ProxyResponse } from './proxy.js';
import { createTransport, type ApiRequest, type Transport } from './transport.js';
import type * as T from './types.js';
import { path } from './url.js';
import {
  assertConnectionIds,
  assertObject,
  assertOptionalObject,
  assertString,
  assertToken,
} from './validate.js';

/**
 * Client of the Ferry REST API (Nango-compatible), for backends. One method per route; every method
 * returns the route's JSON response as typed by `openapi.yaml`.
 *
 * Every method rejects with `FerryError` when the request fails: the server's `code` (e.g. `unknown_connection`,
 * `invalid_body`, `unknown_account`) with its HTTP `status`, `network_error` (status 0) when no response
 * arrived or the request timed out, `unexpected_response` when the body is not the promised JSON. Wrong
 * argument types throw `TypeError` before any request is sent.
 */
export class Ferry {
  readonly #transport: Transport;
  readonly #secretKey: string;

  /**
   * @param options - Server URL, secret key, and optionally a dispatcher and a timeout.
   * @throws TypeError if `host` is not an http(s) URL, `secretKey` is not a non-empty string, `timeoutMs`
   *   is not a positive number, or `dispatcher` is not an undici dispatcher.
   */
  constructor(options: FerryOptions) {
    const { secretKey, transport } = resolveOptions(options);
    this.#secretKey = secretKey;
    this.#transport = createTransport(transport);
  }

  /** Closes the client's own connection pool; an injected dispatcher is left open. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #send<R>(request: Omit<ApiRequest, 'token'> & { token?: string }): Promise<R> {
    return (await this.#transport.send({ ...request, token: request.token ?? this.#secretKey })) as R;
  }

  /** `GET /health`: checks that the server is up. */
  async health(): Promise<T.ResponseOf<'/health', 'get'>> {
    return this.#send({ method: 'GET', path: '/health' });
  }

  /** `GET /providers`: lists the catalog's providers, optionally filtered by `search`. */
  async listProviders(query?: T.ListProvidersQuery): Promise<T.ResponseOf<'/providers', 'get'>> {
    assertOptionalObject('query', query);
    return this.#send({ method: 'GET', path: '/providers', query });
  }

  /** `GET /providers/:provider`: one provider of the catalog. Throws `not_found` if unknown. */
  async getProvider(provider: string): Promise<T.ResponseOf<'/providers/{provider}', 'get'>> {
    assertString('provider', provider);
    return this.#send({ method: 'GET', path: path`/providers/${provider}` });
  }

  /** `GET /integrations`: lists the environment's integrations. */
  async listIntegrations(): Promise<T.ResponseOf<'/integrations', 'get'>> {
    return this.#send({ method: 'GET', path: '/integrations' });
  }

  /**
   * `POST /integrations`: creates an integration.
   * @throws FerryError `invalid_body` (unknown provider, bad fields), `duplicate_integration` (409).
   */
  async createIntegration(body: T.CreateIntegrationBody): Promise<T.ResponseOf<'/integrations', 'post'>> {
    assertObject('body', body);
    return this.#send({ method: 'POST', path: '/integrations', body });
  }

  /**
   * `GET /integrations/:uniqueKey`, with `include: ['webhook', 'credentials']` for the extra fields.
   * @throws FerryError `not_found` if there is no such integration.
   */
  async getIntegration(
    uniqueKey: string,
    query?: T.GetIntegrationQuery,
  ): Promise<T.ResponseOf<'/integrations/{uniqueKey}', 'get'>> {
    assertString('uniqueKey', uniqueKey);
    assertOptionalObject('query', query);
    return this.#send({ method: 'GET', path: path`/integrations/${uniqueKey}`, query });
  }

  /**
   * `PATCH /integrations/:uniqueKey`: updates (or renames) an integration.
   * @throws FerryError `not_found`, `invalid_body`, `duplicate_integration` (409).
   */
  async updateIntegration(
    uniqueKey: string,
    body: T.UpdateIntegrationBody,
  ): Promise<T.ResponseOf<'/integrations/{uniqueKey}', 'patch'>> {
    assertString('uniqueKey', uniqueKey);
    assertObject('body', body);
    return this.#send({ method: 'PATCH', path: path`/integrations/${uniqueKey}`, body });
  }

  /**
   * `DELETE /integrations/:uniqueKey`: deletes an integration and its connections.
   * @throws FerryError `not_found`.
   */
  async deleteIntegration(uniqueKey: string): Promise<T.ResponseOf<'/integrations/{uniqueKey}', 'delete'>> {
    assertString('uniqueKey', uniqueKey);
    return this.#send({ method: 'DELETE', path: path`/integrations/${uniqueKey}` });
  }

  /**
   * `POST /connections`: imports a connection with existing credentials.
   * @throws FerryError `unknown_provider_config` (404), `duplicate_connection` (409), `invalid_body`.
   */
  async createConnection(body: T.ImportConnectionBody): Promise<T.ResponseOf<'/connections', 'post', 201>> {
    assertObject('body', body);
    return this.#send({ method: 'POST', path: '/connections', body });
  }

  /** `GET /connections`: lists connections, filtered and paged by `query`. */
  async listConnections(query?: T.ListConnectionsQuery): Promise<T.ResponseOf<'/connections', 'get'>> {
    assertOptionalObject('query', query);
    return this.#send({ method: 'GET', path: '/connections', query });
  }

  /**
   * `GET /connections/:connectionId`: a connection with its credentials (the refresh token only with
   * `refreshToken: true`).
   * @throws FerryError `unknown_connection` (404), `invalid_credentials` (424) when a refresh fails.
   */
  async getConnection(
    providerConfigKey: string,
    connectionId: string,
    options: T.GetConnectionOptions = {},
  ): Promise<T.ApiPublicConnectionFull> {
    assertString('providerConfigKey', providerConfigKey);
    assertString('connectionId', connectionId);
    assertObject('options', options);
    const query: T.QueryOf<'/connections/{connectionId}', 'get'> = {
      provider_config_key: providerConfigKey,
      force_refresh: options.forceRefresh,
      refresh_token: options.refreshToken,
    };
    return this.#send({ method: 'GET', path: path`/connections/${connectionId}`, query });
  }

  /**
   * Reads a connection's token: the access token for OAUTH2, `{oAuthToken, oAuthTokenSecret}` for OAUTH1,
   * the whole credentials object otherwise.
   * @param options - `forceRefresh: true` refreshes the token first.
   * @throws FerryError as {@link Ferry.getConnection}.
   */
  async getToken(
    providerConfigKey: string,
    connectionId: string,
    options: { readonly forceRefresh?: boolean } = {},
  ): Promise<T.Token> {
    assertObject('options', options);
    const { credentials } = await this.getConnection(providerConfigKey, connectionId, {
      forceRefresh: options.forceRefresh,
    });
    if ('type' in credentials && credentials.type === 'OAUTH2') return credentials.access_token;
    if ('type' in credentials && credentials.type === 'OAUTH1') {
      return { oAuthToken: credentials.oauth_token, oAuthTokenSecret: credentials.oauth_token_secret };
    }
    return credentials;
  }

  /**
   * `PATCH /connections/:connectionId`: updates the end user, tags or webhook URL override.
   * @throws FerryError `unknown_connection` (404), `invalid_body`.
   */
  async patchConnection(
    providerConfigKey: string,
    connectionId: string,
    body: T.PatchConnectionBody,
  ): Promise<T.ResponseOf<'/connections/{connectionId}', 'patch'>> {
    assertString('providerConfigKey', providerConfigKey);
    assertString('connectionId', connectionId);
    assertObject('body', body);
    const query = { provider_config_key: providerConfigKey };
    return this.#send({ method: 'PATCH', path: path`/connections/${connectionId}`, query, body });
  }

  /**
   * `DELETE /connections/:connectionId`: deletes a connection.
   * @throws FerryError `unknown_connection` (404).
   */
  async deleteConnection(
    providerConfigKey: string,
    connectionId: string,
  ): Promise<T.ResponseOf<'/connections/{connectionId}', 'delete'>> {
    assertString('providerConfigKey', providerConfigKey);
    assertString('connectionId', connectionId);
    const query = { provider_config_key: providerConfigKey };
    return this.#send({ method: 'DELETE', path: path`/connections/${connectionId}`, query });
  }

  /**
   * `POST /connections/metadata`: replaces the metadata of one or more connections.
   * @returns The request body, echoed by the server.
   * @throws FerryError `unknown_connection` (404), `invalid_body`.
   */
  async setMetadata(
    providerConfigKey: string,
    connectionId: string | string[],
    metadata: T.Metadata,
  ): Promise<T.ConnectionMetadataBody> {
    return this.#metadata('POST', providerConfigKey, connectionId, metadata);
  }

  /**
   * `PATCH /connections/metadata`: shallow-merges `metadata` into one or more connections' metadata.
   * @returns The request body, echoed by the server.
   * @throws FerryError `unknown_connection` (404), `invalid_body`.
   */
  async updateMetadata(
    providerConfigKey: string,
    connectionId: string | string[],
    metadata: T.Metadata,
  ): Promise<T.ConnectionMetadataBody> {
    return this.#metadata('PATCH', providerConfigKey, connectionId, metadata);
  }

  async #metadata(
    method: 'POST' | 'PATCH',
    providerConfigKey: string,
    connectionId: string | string[],
    metadata: T.Metadata,
  ): Promise<T.ConnectionMetadataBody> {
    assertString('providerConfigKey', providerConfigKey);
    assertConnectionIds('connectionId', connectionId);
    assertObject('metadata', metadata);
    const body: T.ConnectionMetadataBody = {
      connection_id: connectionId,
      provider_config_key: providerConfigKey,
      metadata,
    };
    return this.#send({ method, path: '/connections/metadata', body });
  }

  /**
   * Reads a connection's metadata (through `GET /connections/:connectionId`).
   * @returns The metadata object, or `null` if none was ever set.
   * @throws FerryError `unknown_connection` (404).
   */
  async getMetadata(providerConfigKey: string, connectionId: string): Promise<T.Metadata | null> {
    return (await this.getConnection(providerConfigKey, connectionId)).metadata;
  }

  /**
   * `POST /connect/sessions`: creates a 30-minute connect session for an end user's browser.
   * @throws FerryError `invalid_body` (e.g. an unknown integration in `allowed_integrations`).
   */
  async createConnectSession(
    body: T.CreateConnectSessionBody,
  ): Promise<T.ResponseOf<'/connect/sessions', 'post', 201>> {
    assertObject('body', body);
    return this.#send({ method: 'POST', path: '/connect/sessions', body });
  }

  /**
   * `POST /connect/sessions/reconnect`: creates a connect session that re-authorizes an existing connection.
   * @throws FerryError `invalid_body`, `unknown_connection` (404).
   */
  async createReconnectSession(
    body: T.CreateReconnectSessionBody,
  ): Promise<T.ResponseOf<'/connect/sessions/reconnect', 'post', 201>> {
    assertObject('body', body);
    return this.#send({ method: 'POST', path: '/connect/sessions/reconnect', body });
  }

  /**
   * `GET /connect/session`, authenticated by the session token instead of the secret key.
   * @param sessionToken - A token from {@link Ferry.createConnectSession}.
   * @throws FerryError `invalid_connect_session_token` (401) if it is unknown, expired or revoked.
   */
  async getConnectSession(sessionToken: string): Promise<T.ResponseOf<'/connect/session', 'get'>> {
    assertToken('sessionToken', sessionToken);
    return this.#send({ method: 'GET', path: '/connect/session', token: sessionToken });
  }

  /**
   * `DELETE /connect/session`: revokes a connect session, authenticated by its own token.
   * @throws FerryError `invalid_connect_session_token` (401).
   */
  async deleteConnectSession(sessionToken: string): Promise<void> {
    assertToken('sessionToken', sessionToken);
    await this.#send({ method: 'DELETE', path: '/connect/session', token: sessionToken });
  }

  /** `GET /logs/operations`: one page of activity-log operations, newest first. */
  async listOperations(query?: T.ListOperationsQuery): Promise<T.ResponseOf<'/logs/operations', 'get'>> {
    assertOptionalObject('query', query);
    return this.#send({ method: 'GET', path: '/logs/operations', query });
  }

  /**
   * `GET /logs/operations/:id`: one activity-log operation.
   * @throws FerryError `not_found`.
   */
  async getOperation(id: string): Promise<T.ResponseOf<'/logs/operations/{operationId}', 'get'>> {
    assertString('id', id);
    return this.#send({ method: 'GET', path: path`/logs/operations/${id}` });
  }

  /**
   * `GET /logs/operations/:id/messages`: one page of an operation's messages, oldest first.
   * @throws FerryError `not_found`.
   */
  async listOperationMessages(
    id: string,
    query?: T.ListOperationMessagesQuery,
  ): Promise<T.ResponseOf<'/logs/operations/{operationId}/messages', 'get'>> {
    assertString('id', id);
    assertOptionalObject('query', query);
    return this.#send({ method: 'GET', path: path`/logs/operations/${id}/messages`, query });
  }

  // --- Deployed scripts ---

  /**
   * `GET /scripts/config`: the deployed scripts. `nango` (the default): Nango's `StandardNangoConfig[]`, one entry per
   * integration, as `@nangohq/node`'s `getScriptsConfig()` returns it; `openai`: `{data}` with an OpenAI function
   * definition per action.
   * @throws TypeError when `format` is neither `nango` nor `openai`.
   */
  async getScriptsConfig(format?: 'nango'): Promise<T.StandardNangoConfig[]>;
  async getScriptsConfig(format: 'openai'): Promise<{ data: T.OpenAiFunction[] }>;
  async getScriptsConfig(
    format: 'nango' | 'openai' = 'nango',
  ): Promise<T.StandardNangoConfig[] | { data: T.OpenAiFunction[] }> {
    if (format !== 'nango' && format !== 'openai') throw new TypeError('format must be "nango" or "openai"');
    return this.#send({ method: 'GET', path: '/scripts/config', query: { format } });
  }

  /**
   * `GET /integrations/:uniqueKey/functions/:name/code`: the TypeScript source of a deployed script.
   * @throws FerryError `unknown_script` (404), `ambiguous_function` (400) when `name` is two kinds of script and no
   *   `type` is given.
   */
  async getFunctionCode(
    uniqueKey: string,
    name: string,
    type?: 'sync' | 'action' | 'on-event',
  ): Promise<T.ResponseOf<'/integrations/{uniqueKey}/functions/{name}/code', 'get'>> {
    assertString('uniqueKey', uniqueKey);
    assertString('name', name);
    return this.#send({
      method: 'GET',
      path: path`/integrations/${uniqueKey}/functions/${name}/code`,
      query: type ? { type } : undefined,
    });
  }

  /**
   * `POST /scripts/rollback`: makes an earlier version of a script current again.
   * @throws FerryError `unknown_script` (404), `ambiguous_function` (400), `concurrent_deployment` (409).
   */
  async rollbackScript(body: T.RollbackScriptBody): Promise<T.ResponseOf<'/scripts/rollback', 'post'>> {
    assertObject('body', body);
    return this.#send({ method: 'POST', path: '/scripts/rollback', body });
  }

  /**
   * `GET /records/`: one page of a connection's records of `model`, in the order they last changed (as
   * `@nangohq/node`'s `listRecords`). Follow `next_cursor` until it is null.
   * @throws FerryError `invalid_cursor` (400), `unknown_connection`, `unknown_provider_config`, `unknown_model` (404).
   */
  async listRecords<R extends object = Record<string, unknown>>(
    config: T.ListRecordsRequestConfig,
  ): Promise<T.RecordsPage<R>> {
    assertObject('config', config);
    assertString('providerConfigKey', config.providerConfigKey);
    assertString('connectionId', config.connectionId);
    assertString('model', config.model);
    const since = config.modifiedAfter ?? config.delta;
    return this.#send({
      method: 'GET',
      path: '/records/',
      headers: { 'Connection-Id': config.connectionId, 'Provider-Config-Key': config.providerConfigKey },
      query: {
        model: config.model,
        variant: config.variant,
        modified_after: since instanceof Date ? since.toISOString() : since,
        limit: config.limit,
        filter: config.filter,
        cursor: config.cursor ?? undefined,
        ids: config.ids,
      },
    });
  }

  /**
   * `PATCH /records/prune`: empties the payloads of records up to `untilCursor` (at most `limit`); the records keep
   * their id and metadata. Call again while `has_more`.
   * @throws FerryError `invalid_cursor` (400), `unknown_connection`, `unknown_model` (404).
   */
  async pruneRecords(config: T.PruneRecordsRequestConfig): Promise<T.PruneRecordsResult> {
    assertObject('config', config);
    assertString('providerConfigKey', config.providerConfigKey);
    assertString('connectionId', config.connectionId);
    assertString('model', config.model);
    assertString('untilCursor', config.untilCursor);
    return this.#send({
      method: 'PATCH',
      path: '/records/prune',
      headers: { 'Connection-Id': config.connectionId, 'Provider-Config-Key': config.providerConfigKey },
      body: {
        model: config.model,
        until_cursor: config.untilCursor,
        limit: config.limit,
        variant: config.variant,
      },
    });
  }

  /**
   * `ANY /proxy/{endpoint}`: sends a request to the connection's provider with its credentials (auth,
   * retries and rate-limit waits on the server). Resolves with the provider's answer for any status.
   * @throws FerryError when Ferry itself fails the request (`unknown_connection`, `invalid_credentials`,
   *   `forbidden_url`, `proxy_timeout`, `upstream_unreachable`, …) or `network_error`; TypeError on misuse.
   */
  async proxy<T = unknown>(config: ProxyConfiguration): Promise<ProxyResponse<T>> {
    const raw = await this.#transport.sendRaw(toProxyRequest(config, this.#secretKey));
    return fromProxyResponse<T>(raw, config.responseType);
  }

  /** {@link Ferry.proxy} with `GET`. */
  get<T = unknown>(config: Omit<ProxyConfiguration, 'method'>): Promise<ProxyResponse<T>> {
    return this.proxy<T>({ ...config, method: 'GET' });
  }

  /** {@link Ferry.proxy} with `POST`. */
  post<T = unknown>(config: Omit<ProxyConfiguration, 'method'>): Promise<ProxyResponse<T>> {
    return this.proxy<T>({ ...config, method: 'POST' });
  }

  /** {@link Ferry.proxy} with `PUT`. */
  put<T = unknown>(config: Omit<ProxyConfiguration, 'method'>): Promise<ProxyResponse<T>> {
    return this.proxy<T>({ ...config, method: 'PUT' });
  }

  /** {@link Ferry.proxy} with `PATCH`. */
  patch<T = unknown>(config: Omit<ProxyConfiguration, 'method'>): Promise<ProxyResponse<T>> {
    return this.proxy<T>({ ...config, method: 'PATCH' });
  }

  /** {@link Ferry.proxy} with `DELETE`. */
  delete<T = unknown>(config: Omit<ProxyConfiguration, 'method'>): Promise<ProxyResponse<T>> {
    return this.proxy<T>({ ...config, method: 'DELETE' });
  }
}
