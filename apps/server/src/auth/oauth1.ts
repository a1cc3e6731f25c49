import { createHmac } from 'node:crypto';
import { tryInterpolate, type Provider } from '@ferry/providers';
import OAuth from 'oauth-1.0a';
import { postToEndpoint, TokenEndpointError } from '../connections/tokenRequest.js';
import type { Outbound } from '../outbound/client.js';
import type { StoredCredentials } from '../connections/credentials.js';
import { tokenUrlOf } from './oauth2.js';

function client(provider: Provider, key: string, secret: string): OAuth {
  const method = provider.signature_method ?? 'HMAC-SHA1';
  const algo = method === 'HMAC-SHA256' ? 'sha256' : 'sha1';
  return new OAuth({
    consumer: { key, secret },
    signature_method: method,
    hash_function: (base, signingKey) =>
      method === 'PLAINTEXT' ? signingKey : createHmac(algo, signingKey).update(base).digest('base64'),
  });
}

async function signedPost(
  http: Outbound,
  oauth: OAuth,
  request: { url: string; data: Record<string, string>; token?: OAuth.Token },
): Promise<Record<string, string>> {
  const { url, data, token } = request;
  const auth = oauth.toHeader(oauth.authorize({ url, method: 'POST', data }, token));
  // oauth_* values travel in the Authorization header; the rest (signed too) in the form body.
  const form = new URLSearchParams(Object.entries(data).filter(([k]) => !k.startsWith('oauth_'))).toString();
  const { status, text } = await postToEndpoint(http, url, {
    headers: {
      ...auth,
      accept: 'application/x-www-form-urlencoded, application/json',
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form || undefined,
    what: 'the OAuth 1 endpoint',
  });
  const body = Object.fromEntries(new URLSearchParams(text));
  if (status < 200 || status >= 300)
    throw new TokenEndpointError(`the OAuth 1 endpoint refused: HTTP ${status}`, status, body);
  return body;
}

/**
 * OAuth 1.0a step 1: gets a request token (signed with the consumer key and secret; `oauth_callback` carries the
 * state) and returns the provider's authorize URL for it.
 * @throws TokenEndpointError
 */
export async function oauth1RequestToken(input: {
  /** The server's outbound requests. */
  http: Outbound;
  provider: Provider;
  consumerKey: string;
  consumerSecret: string;
  callbackUrl: string;
  connectionConfig: Record<string, unknown>;
}): Promise<{ authorizeUrl: string; requestTokenSecret: string }> {
  const { provider } = input;
  const vars = { connectionConfig: input.connectionConfig };
  const url = tryInterpolate(provider.request_url ?? '', vars) ?? '';
  const data: Record<string, string> = { oauth_callback: input.callbackUrl };
  for (const [k, v] of Object.entries(provider.request_params ?? {})) {
    const value = tryInterpolate(v, vars);
    if (value !== undefined) data[k] = value;
  }
  const body = await signedPost(input.http, client(provider, input.consumerKey, input.consumerSecret), {
    url,
    data,
  });
  if (!body.oauth_token || !body.oauth_token_secret) {
    throw new TokenEndpointError('the request-token response has no oauth_token', 200, body);
  }
  const authorize = new URL(tryInterpolate(provider.authorization_url ?? '', vars) ?? '');
  for (const [k, v] of Object.entries(provider.authorization_params ?? {})) {
    const value = tryInterpolate(v, vars);
    if (value !== undefined) authorize.searchParams.set(k, value);
  }
  authorize.searchParams.set('oauth_token', body.oauth_token);
  return { authorizeUrl: authorize.toString(), requestTokenSecret: body.oauth_token_secret };
}

/**
 * OAuth 1.0a step 3: trades the authorized request token and its verifier for an access token.
 * @throws TokenEndpointError
 */
export async function oauth1AccessToken(input: {
  /** The server's outbound requests. */
  http: Outbound;
  provider: Provider;
  consumerKey: string;
  consumerSecret: string;
  oauthToken: string;
  requestTokenSecret: string;
  verifier: string;
  connectionConfig: Record<string, unknown>;
}): Promise<StoredCredentials> {
  const url =
    tryInterpolate(tokenUrlOf(input.provider, 'OAUTH1') ?? '', {
      connectionConfig: input.connectionConfig,
    }) ?? '';
  const body = await signedPost(input.http, client(input.provider, input.consumerKey, input.consumerSecret), {
    url,
    data: { oauth_verifier: input.verifier },
    token: { key: input.oauthToken, secret: input.requestTokenSecret },
  });
  if (!body.oauth_token || !body.oauth_token_secret) {
    throw new TokenEndpointError('the access-token response has no oauth_token', 200, body);
  }
  return {
    type: 'OAUTH1',
    oauth_token: body.oauth_token,
    oauth_token_secret: body.oauth_token_secret,
    raw: body,
  };
}
