import type { Provider } from '@ferry/providers';
import { tryInterpolate } from '@ferry/providers';
import type { Outbound } from '../outbound/client.js';

/** What a token endpoint answered, parsed. */
export interface TokenResponse {
  raw: Record<string, unknown>;
  accessToken: string;
  refreshToken: string | undefined;
  expiresAt: string | undefined;
}

/** A token endpoint that answered with an error or something unreadable. */
export class TokenEndpointError extends Error {
  override readonly name = 'TokenEndpointError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: unknown,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

const TIMEOUT_MS = 15_000;

/**
 * POSTs to a provider's auth endpoint through the server's outbound requests (address policy included) with
 * the auth timeouts, and reads the answer as text, whatever its status.
 * @param http - the server's outbound requests.
 * @param init - headers, body, and `what`: how to name the endpoint in the error ("the token endpoint").
 * @throws TokenEndpointError when no answer came: the same message for a refused address, a closed port,
 *   a timeout or an unusable URL, so that an error never tells whether a port was open.
 */
export async function postToEndpoint(
  http: Outbound,
  url: string,
  init: { headers: Record<string, string>; body?: string | undefined; what: string },
): Promise<{ status: number; text: string }> {
  try {
    return await http.request(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      timeoutMs: TIMEOUT_MS,
    });
  } catch (err) {
    throw new TokenEndpointError(`${init.what} could not be reached`, undefined, undefined, { cause: err });
  }
}

/**
 * Calls a provider's token endpoint (`grant_type` and the extra params in `params`), authenticating the client in
 * the body or with HTTP Basic as the provider says (`token_request_auth_method`), form or JSON per `body_format`.
 * @throws TokenEndpointError when the endpoint is unreachable, answers non-2xx, or returns no access token.
 */
export async function requestToken(opts: {
  /** The server's outbound requests. */
  http: Outbound;
  url: string;
  provider: Provider;
  clientId: string;
  clientSecret: string;
  params: Record<string, string>;
  connectionConfig?: Record<string, unknown>;
}): Promise<TokenResponse> {
  const { provider } = opts;
  const body: Record<string, string> = { ...opts.params };
  const headers: Record<string, string> = { accept: 'application/json' };
  if (provider.token_request_auth_method === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`).toString('base64')}`;
  } else {
    body.client_id = opts.clientId;
    body.client_secret = opts.clientSecret;
  }
  const json = provider.body_format === 'json';
  headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  const url = tryInterpolate(opts.url, { connectionConfig: opts.connectionConfig ?? {} }) ?? opts.url;
  const { status, text } = await postToEndpoint(opts.http, url, {
    headers,
    body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
    what: 'the token endpoint',
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = Object.fromEntries(new URLSearchParams(text));
  }
  const raw = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (status < 200 || status >= 300) {
    const detail =
      typeof raw.error === 'string'
        ? `${raw.error}${typeof raw.error_description === 'string' ? `: ${raw.error_description}` : ''}`
        : `HTTP ${status}`;
    throw new TokenEndpointError(`the token endpoint refused: ${detail}`, status, raw);
  }
  const accessToken = raw.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw new TokenEndpointError('the token endpoint answered without an access_token', status, raw);
  }
  return {
    raw,
    accessToken,
    refreshToken:
      typeof raw.refresh_token === 'string' && raw.refresh_token.length > 0 ? raw.refresh_token : undefined,
    expiresAt: expiresAtOf(raw),
  };
}

/** Reads `expires_in` (seconds) or `expires_at` (epoch seconds, ms or a date) from a token response. */
export function expiresAtOf(raw: Record<string, unknown>, now = Date.now()): string | undefined {
  const expiresIn = Number(raw.expires_in);
  if (raw.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn > 0)
    return new Date(now + expiresIn * 1000).toISOString();
  const at = raw.expires_at;
  if (typeof at === 'number' && Number.isFinite(at))
    return new Date(at > 1e12 ? at : at * 1000).toISOString();
  if (typeof at === 'string' && !Number.isNaN(Date.parse(at))) return new Date(at).toISOString();
  return undefined;
}
