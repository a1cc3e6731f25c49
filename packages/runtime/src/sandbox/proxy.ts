import { isPlainObject, toPlain } from './plain.js';
import { parseQuery } from './paginate.js';

/** Nango's ProxyConfiguration, as scripts pass it. */
export interface ProxyConfig {
  endpoint: string;
  method?: string;
  params?: string | Record<string, unknown>;
  headers?: Record<string, unknown>;
  data?: unknown;
  retries?: number;
  retryOn?: number[];
  retryHeader?: { at?: string; after?: string };
  baseUrlOverride?: string | undefined;
  responseType?: string;
  decompress?: boolean;
  connectionId?: string;
  providerConfigKey?: string;
  paginate?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The response scripts see (the fields of an AxiosResponse that matter). */
export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  data: unknown;
}

/** A parameter or header value as text (objects as JSON). */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${value}`;
  if (typeof value === 'symbol') return value.toString();
  return JSON.stringify(value) ?? '';
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Turns a script's proxy configuration into the host request: plain data only, method upper-cased,
 * params as a flat object. Throws TypeError on misuse, as Nango's SDK would.
 */
export function toHostRequest(config: ProxyConfig, forceMethod?: string): Record<string, unknown> {
  if (!isPlainObject(config)) throw new TypeError('proxy: the configuration must be an object');
  if (typeof config.endpoint !== 'string' || config.endpoint === '')
    throw new TypeError('proxy: "endpoint" is required');
  const method = forceMethod ?? (config.method === undefined ? 'GET' : String(config.method).toUpperCase());
  if (!METHODS.has(method)) throw new TypeError(`proxy: unsupported method "${method}"`);
  const request: Record<string, unknown> = { method, endpoint: config.endpoint };
  if (config.params !== undefined) {
    const raw = typeof config.params === 'string' ? parseQuery(config.params) : config.params;
    const params: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (value === undefined || value === null) continue;
      params[key] = typeof value === 'number' || typeof value === 'boolean' ? value : text(value);
    }
    request.params = params;
  }
  if (config.headers !== undefined) {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(config.headers))
      if (value !== undefined) headers[key] = text(value);
    request.headers = headers;
  }
  if (config.data !== undefined) request.data = toPlain(config.data, 'script_runtime_error', true);
  if (typeof config.baseUrlOverride === 'string') request.baseUrlOverride = config.baseUrlOverride;
  if (typeof config.responseType === 'string') request.responseType = config.responseType;
  if (typeof config.connectionId === 'string') request.connectionId = config.connectionId;
  if (typeof config.providerConfigKey === 'string') request.providerConfigKey = config.providerConfigKey;
  if (typeof config.retries === 'number') request.retries = config.retries;
  if (typeof config.decompress === 'boolean') request.decompress = config.decompress;
  if (Array.isArray(config.retryOn)) request.retryOn = config.retryOn.map(Number);
  if (config.retryHeader) request.retryHeader = toPlain(config.retryHeader, 'script_runtime_error');
  return request;
}

/** The error a script sees for a status ≥ 400, shaped like an AxiosError (`response.status`, `response.data`). */
export function httpError(response: ProxyResponse, request: Record<string, unknown>): Error {
  const error = new Error(`Request failed with status code ${response.status}`) as Error &
    Record<string, unknown>;
  error.name = 'AxiosError';
  error.code = response.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST';
  error.status = response.status;
  error.response = response;
  error.config = request;
  error.isAxiosError = true;
  return error;
}
