import type { RawRequest, RawResponse } from './transport.js';
import { readEnvelope } from './transport.js';
import { buildQuery, type QueryParams } from './url.js';
import { assertObject, assertString } from './validate.js';

/** HTTP methods the proxy forwards. */
export type ProxyMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** One request through `/proxy` (the fields of Nango's `ProxyConfiguration`). */
export interface ProxyConfiguration {
  /** Path relative to the provider's base URL, e.g. `/user/repos`. */
  readonly endpoint: string;
  readonly providerConfigKey: string;
  readonly connectionId: string;
  /** Default `GET`. */
  readonly method?: ProxyMethod | Lowercase<ProxyMethod> | undefined;
  /** Headers for the provider (sent as `Nango-Proxy-<Name>`; `Content-Type` also as is). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Query parameters: an object, or a string such as `a=1&b=2`. */
  readonly params?: string | QueryParams | undefined;
  /** The body: an object or array (sent as JSON), a string, or bytes. */
  readonly data?: unknown;
  /** Extra attempts on network errors, 5xx, 429 and the provider's retry statuses. */
  readonly retries?: number | undefined;
  /** Statuses to retry as well. */
  readonly retryOn?: readonly number[] | undefined;
  /** Another base URL (by default the server accepts the provider's own host only). */
  readonly baseUrlOverride?: string | undefined;
  /** Ask for a compressed response and decompress it on the server. */
  readonly decompress?: boolean | undefined;
  /** Send the connection's auth to another origin a redirect leads to. */
  readonly forwardHeadersOnRedirect?: boolean | undefined;
  /** How to decode the body: `json` (default: parsed when it is JSON, else text), `text` or `arraybuffer`. */
  readonly responseType?: 'json' | 'text' | 'arraybuffer' | undefined;
}

/** The provider's answer, whatever its status (its error statuses are answers too, not exceptions). */
export interface ProxyResponse<T = unknown> {
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly data: T;
  /** Upstream attempts the server made (`x-ferry-proxy-attempts`). */
  readonly attempts: number;
}

/**
 * Turns a proxy configuration into the `/proxy` request Nango's SDK would send.
 * @throws TypeError on a missing endpoint, connection id or integration key, a non-string header, or a
 *   string `params` together with a query in the endpoint.
 */
export function toProxyRequest(config: ProxyConfiguration, token: string): RawRequest {
  assertObject('config', config);
  assertString('endpoint', config.endpoint);
  assertString('providerConfigKey', config.providerConfigKey);
  assertString('connectionId', config.connectionId);
  const headers: Record<string, string> = {
    'connection-id': config.connectionId,
    'provider-config-key': config.providerConfigKey,
  };
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    if (typeof value !== 'string') throw new TypeError(`header "${name}" must be a string`);
    headers[`nango-proxy-${name.toLowerCase()}`] = value;
    if (name.toLowerCase() === 'content-type') headers['content-type'] = value;
  }
  if (config.retries !== undefined) headers.retries = String(config.retries);
  if (config.retryOn?.length) headers['retry-on'] = config.retryOn.join(',');
  if (config.baseUrlOverride) headers['base-url-override'] = config.baseUrlOverride;
  if (config.decompress !== undefined) headers.decompress = String(config.decompress);
  if (config.forwardHeadersOnRedirect !== undefined)
    headers['forward-headers-on-redirect'] = String(config.forwardHeadersOnRedirect);
  let body: string | Uint8Array | undefined;
  if (config.data instanceof Uint8Array || typeof config.data === 'string') body = config.data;
  else if (config.data !== undefined) {
    body = JSON.stringify(config.data);
    headers['content-type'] ??= 'application/json';
  }
  const endpoint = config.endpoint.startsWith('/') ? config.endpoint : `/${config.endpoint}`;
  let query = '';
  if (typeof config.params === 'string') {
    if (endpoint.includes('?'))
      throw new TypeError('"params" as a string cannot be combined with a query in "endpoint"');
    query = config.params === '' ? '' : `?${config.params.replace(/^\?/, '')}`;
  } else if (config.params) {
    query = buildQuery(config.params);
    if (endpoint.includes('?') && query) query = `&${query.slice(1)}`;
  }
  return {
    method: (config.method ?? 'GET').toUpperCase(),
    path: `/proxy${endpoint}${query}`,
    headers,
    body,
    token,
  };
}

/**
 * Decodes the answer of `/proxy`: the provider's response (any status), or Ferry's own error.
 * @throws FerryError with Ferry's code (`unknown_connection`, `forbidden_url`, `proxy_timeout`, …) when the
 *   server, not the provider, failed the request.
 */
export function fromProxyResponse<T>(
  raw: RawResponse,
  responseType: ProxyConfiguration['responseType'],
): ProxyResponse<T> {
  const fromUpstream = raw.headers['x-ferry-upstream-error'] !== undefined;
  const isJson = /[/+]json\b/i.test(raw.headers['content-type'] ?? '');
  if (raw.status >= 400 && !fromUpstream && isJson) {
    let json: unknown;
    try {
      json = JSON.parse(raw.body.toString('utf8'));
    } catch {
      json = undefined;
    }
    const error = readEnvelope(json, raw.status);
    if (error) throw error;
  }
  let data: unknown;
  if (responseType === 'arraybuffer') data = new Uint8Array(raw.body);
  else {
    const text = raw.body.toString('utf8');
    data = text;
    if (responseType !== 'text' && isJson && text !== '') {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
  }
  return {
    status: raw.status,
    headers: raw.headers,
    data: data as T,
    attempts: Number(raw.headers['x-ferry-proxy-attempts'] ?? 0),
  };
}
