import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { interpolateObject, type InterpolationContext, type Provider } from '@ferry/providers';
import type { StoredCredentials } from '../connections/credentials.js';

/** What a connection adds to every request: headers (auth, template) and template query parameters. */
export interface InjectedAuth {
  /** Headers set by the credentials and the provider template, lower-case names. */
  headers: Record<string, string>;
  /** Names of injected headers the caller may not override (they carry credentials). */
  protectedHeaders: Set<string>;
  /** Template query parameters (their names cannot be overridden by the caller). */
  query: Record<string, string>;
  /** Names of template query parameters carrying credentials (redacted in logs). */
  secretQuery: Set<string>;
  /**
   * Signs one request for OAuth 1.0a (the signature covers method, URL and form body parameters);
   * undefined otherwise.
   */
  sign?: ((method: string, url: string, form?: Record<string, string>) => string) | undefined;
  /** The token a 401 refresh must change before a retry, if the credentials can be refreshed. */
  refreshableToken?: string | undefined;
}

/** The OAuth app (consumer) of an OAuth 1.0a integration. */
export interface OAuth1Consumer {
  key: string;
  secret: string;
}

// A template value with a placeholder other than ${connectionConfig.…} may carry a secret.
const CREDENTIAL_PLACEHOLDER = /\$\{(?!\s*connectionConfig\.)/;

function bearerToken(c: StoredCredentials): string | undefined {
  switch (c.type) {
    case 'OAUTH2':
      return c.access_token;
    case 'OAUTH2_CC':
      return c.token;
    case 'APP':
      return c.access_token;
    case 'API_KEY':
    case 'BASIC':
    case 'OAUTH1':
    case 'NONE':
      return undefined;
  }
}

function oauth1Signer(
  consumer: OAuth1Consumer,
  token: { key: string; secret: string },
  method: 'HMAC-SHA1' | 'HMAC-SHA256' | 'PLAINTEXT',
): (httpMethod: string, url: string, form?: Record<string, string>) => string {
  const oauth = new OAuth({
    consumer,
    signature_method: method,
    hash_function: (base, key) =>
      method === 'PLAINTEXT'
        ? key
        : createHmac(method === 'HMAC-SHA256' ? 'sha256' : 'sha1', key)
            .update(base)
            .digest('base64'),
  });
  return (httpMethod, url, form) =>
    oauth.toHeader(oauth.authorize({ url, method: httpMethod, ...(form ? { data: form } : {}) }, token))
      .Authorization;
}

/** The values `proxy.base_url`, `headers` and `query` templates may refer to. */
export function interpolationContext(
  credentials: StoredCredentials,
  connectionConfig: Record<string, unknown>,
): InterpolationContext {
  const token = bearerToken(credentials);
  return {
    connectionConfig,
    credentials: credentials,
    ...(credentials.type === 'API_KEY' ? { apiKey: credentials.apiKey } : {}),
    ...(token ? { accessToken: token } : {}),
  };
}

/**
 * Works out what the connection injects into each request: `Bearer` for OAuth2, client-credentials, app and
 * JWT tokens, `Basic` for username/password, an OAuth 1.0a signature, then the provider's `proxy.headers` and
 * `proxy.query` templates (API keys usually arrive this way), interpolated with the connection config and
 * credentials; template entries that do not resolve are left out.
 */
export function injectAuth(options: {
  provider: Provider;
  credentials: StoredCredentials;
  connectionConfig: Record<string, unknown>;
  consumer?: OAuth1Consumer | undefined;
}): InjectedAuth {
  const { provider, credentials } = options;
  const headers: Record<string, string> = {};
  const protectedHeaders = new Set<string>();
  let sign: InjectedAuth['sign'];
  const token = bearerToken(credentials);
  if (token) headers.authorization = `Bearer ${token}`;
  else if (credentials.type === 'BASIC')
    headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  else if (credentials.type === 'OAUTH1' && options.consumer) {
    const method =
      provider.signature_method === 'HMAC-SHA256' || provider.signature_method === 'PLAINTEXT'
        ? provider.signature_method
        : 'HMAC-SHA1';
    sign = oauth1Signer(
      options.consumer,
      { key: credentials.oauth_token, secret: credentials.oauth_token_secret },
      method,
    );
  }
  if (headers.authorization || sign) protectedHeaders.add('authorization');
  const context = interpolationContext(credentials, options.connectionConfig);
  const templateHeaders = provider.proxy?.headers ?? {};
  for (const [name, value] of Object.entries(interpolateObject(templateHeaders, context))) {
    const lower = name.toLowerCase();
    headers[lower] = value;
    if (CREDENTIAL_PLACEHOLDER.test(templateHeaders[name] ?? '')) protectedHeaders.add(lower);
  }
  const templateQuery = provider.proxy?.query ?? {};
  const query = interpolateObject(templateQuery, context);
  const secretQuery = new Set(
    Object.keys(query).filter((k) => CREDENTIAL_PLACEHOLDER.test(templateQuery[k] ?? '')),
  );
  const refreshable =
    credentials.type === 'OAUTH2' || credentials.type === 'OAUTH2_CC' || credentials.type === 'APP';
  return {
    headers,
    protectedHeaders,
    query,
    secretQuery,
    sign,
    refreshableToken: refreshable ? (token ?? '') : undefined,
  };
}
