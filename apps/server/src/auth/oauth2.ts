import { interpolateObject, interpolateString, type Provider } from '@ferry/providers';
import type { StoredCredentials } from '../connections/credentials.js';
import { requestToken } from '../connections/tokenRequest.js';
import { FerryError } from '../errors.js';
import type { Outbound } from '../outbound/client.js';
import type { FlowContext } from './flows.js';
import { splitScopes } from './caller.js';
import { pkceChallenge } from './pkce.js';

/** Authorize-URL parameters Ferry owns; a caller's `authorization_params` cannot replace them. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
]);

/** The token URL of a provider for an auth mode (`token_url` may be a map by mode). */
export function tokenUrlOf(provider: Provider, authMode: string): string | undefined {
  const t = provider.token_url;
  if (typeof t === 'string' || t === undefined) return t;
  return (t as Record<string, string | undefined>)[authMode];
}

/** Scopes of a flow: the override, else the integration's (or the provider's defaults), plus the user's. */
export function scopesOf(
  provider: Provider,
  integrationScopes: string | null | undefined,
  ctx: FlowContext,
): string {
  const base =
    ctx.scopesOverride ??
    (integrationScopes ? splitScopes(integrationScopes) : (provider.default_scopes ?? []));
  return [...new Set([...base, ...ctx.userScopes])].join(provider.scope_separator ?? ' ');
}

/**
 * Builds the provider's authorize URL: interpolated template params, then the caller's (a `null` value removes a
 * template param), `client_id`, `redirect_uri`, `response_type=code`, scopes, `state` and PKCE S256 unless the
 * provider says `disable_pkce`.
 * @throws missing_client_credentials when a `${connectionConfig.x}` in the URL has no value
 */
export function authorizeUrl(input: {
  provider: Provider;
  clientId: string;
  scopes: string;
  ctx: FlowContext;
  state: string;
  redirectUri: string;
  codeVerifier: string | undefined;
}): string {
  const { provider, ctx } = input;
  const vars = { connectionConfig: ctx.connectionConfig };
  let base: string;
  try {
    base = interpolateString(provider.authorization_url ?? '', vars);
  } catch (err) {
    throw new FerryError(
      'invalid_query_params',
      `The authorization URL needs connection config: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const url = new URL(base);
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
  };
  if (input.scopes) params.scope = input.scopes;
  Object.assign(params, interpolateObject(provider.authorization_params, vars));
  for (const [k, v] of Object.entries(ctx.authorizationParams)) {
    if (!RESERVED_PARAMS.has(k)) params[k] = v;
  }
  params.state = input.state;
  if (input.codeVerifier) {
    params.code_challenge = pkceChallenge(input.codeVerifier);
    params.code_challenge_method = 'S256';
  }
  for (const [k, v] of Object.entries(params)) {
    if (v === null || (v === '' && provider.authorization_url_skip_empty)) continue;
    url.searchParams.set(k, v);
  }
  return url.toString();
}

/** Reads a dotted path from a token response. */
function pick(raw: Record<string, unknown>, path: string): unknown {
  let cur: unknown = raw;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Exchanges an authorization code at the provider's token URL (its `token_params`, client auth per
 * `token_request_auth_method`, form or JSON per `body_format`).
 * @returns OAUTH2 credentials (raw response kept) and the `token_response_metadata` for the connection config.
 * @throws TokenEndpointError when the provider refuses or cannot be reached
 */
export async function exchangeCode(input: {
  /** The server's outbound requests. */
  http: Outbound;
  provider: Provider;
  clientId: string;
  clientSecret: string;
  code: string;
  redirectUri: string;
  codeVerifier: string | undefined;
  connectionConfig: Record<string, unknown>;
}): Promise<{ credentials: StoredCredentials; metadata: Record<string, unknown> }> {
  const { provider } = input;
  const vars = { connectionConfig: input.connectionConfig };
  const params: Record<string, string> = { grant_type: 'authorization_code' };
  Object.assign(params, interpolateObject(provider.token_params, vars));
  params.code = input.code;
  params.redirect_uri = input.redirectUri;
  if (input.codeVerifier) params.code_verifier = input.codeVerifier;
  const token = await requestToken({
    http: input.http,
    url: tokenUrlOf(provider, 'OAUTH2') ?? '',
    provider,
    clientId: input.clientId,
    clientSecret: input.clientSecret,
    params,
    connectionConfig: input.connectionConfig,
  });
  const metadata: Record<string, unknown> = {};
  for (const path of provider.token_response_metadata ?? []) {
    const v = pick(token.raw, path);
    if (v !== undefined) metadata[path] = v;
  }
  return {
    credentials: {
      type: 'OAUTH2',
      access_token: token.accessToken,
      ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}),
      ...(token.expiresAt ? { expires_at: token.expiresAt } : {}),
      raw: token.raw,
    },
    metadata,
  };
}
