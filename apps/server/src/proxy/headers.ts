import type { IncomingHttpHeaders } from 'node:http';
import { FerryError } from '../errors.js';

/** Headers that belong to one hop and are never forwarded (either way). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'http2-settings',
]);

/** Upstream response headers never passed back to the caller. */
const RESPONSE_DROPPED = new Set([
  ...HOP_BY_HOP,
  'set-cookie',
  'set-cookie2',
  'strict-transport-security',
  'alt-svc',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
const PREFIX = 'nango-proxy-';
const SECRET_NAME = /auth|token|key|secret|password|cookie|session|signature|credential/i;

/** The proxy's control headers and the headers to forward, read from an incoming request. */
export interface ProxyControl {
  connectionId: string;
  providerConfigKey: string;
  retries: number;
  retryOn: number[];
  baseUrlOverride: string | undefined;
  decompress: boolean | undefined;
  forwardHeadersOnRedirect: boolean | undefined;
  /** Caller headers to forward: `Nango-Proxy-*` with the prefix removed, and `Content-Type`; lower-case. */
  headers: Record<string, string>;
}

function invalid(name: string, message: string): FerryError {
  return new FerryError('invalid_headers', message, { errors: [{ path: name, message }] });
}

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function bool(headers: IncomingHttpHeaders, name: string): boolean | undefined {
  const v = one(headers, name)?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalid(name, `${name} must be true or false.`);
}

/**
 * Checks a header a caller wants forwarded and adds it, lower-cased, unless it is hop-by-hop.
 * @throws FerryError `invalid_headers` for a name that is not an HTTP token or a value with CR, LF or NUL.
 */
export function addForwarded(target: Record<string, string>, name: string, value: string): void {
  if (!TOKEN.test(name)) throw invalid(name, `"${name}" is not a valid header name.`);
  if (BAD_VALUE.test(value)) throw invalid(name, `The value of ${name} contains CR, LF or NUL.`);
  const lower = name.toLowerCase();
  if (HOP_BY_HOP.has(lower)) return;
  target[lower] = value;
}

/**
 * Reads the proxy control headers (`Connection-Id`, `Provider-Config-Key`, `Retries`, `Retry-On`,
 * `Base-Url-Override`, `Decompress`, `Forward-Headers-On-Redirect`) and the headers to forward.
 * @throws FerryError `invalid_headers` for a missing or malformed control header.
 */
export function readControl(headers: IncomingHttpHeaders): ProxyControl {
  const connectionId = one(headers, 'connection-id')?.trim();
  const providerConfigKey = one(headers, 'provider-config-key')?.trim();
  if (!connectionId) throw invalid('connection-id', 'The Connection-Id header is required.');
  if (!providerConfigKey) throw invalid('provider-config-key', 'The Provider-Config-Key header is required.');
  const retriesText = one(headers, 'retries')?.trim();
  let retries = 0;
  if (retriesText) {
    if (!/^\d{1,4}$/.test(retriesText)) throw invalid('retries', 'Retries must be a non-negative integer.');
    retries = Number(retriesText);
  }
  const retryOnText = one(headers, 'retry-on')?.trim();
  const retryOn: number[] = [];
  if (retryOnText) {
    for (const part of retryOnText.split(',')) {
      const p = part.trim();
      if (!/^[1-5]\d\d$/.test(p))
        throw invalid('retry-on', 'Retry-On must be a comma-separated list of HTTP statuses.');
      retryOn.push(Number(p));
    }
  }
  const override = one(headers, 'base-url-override')?.trim();
  const forwarded: Record<string, string> = {};
  for (const name in headers) {
    if (!name.startsWith(PREFIX) || name.length === PREFIX.length) continue;
    const value = headers[name];
    if (value !== undefined)
      addForwarded(forwarded, name.slice(PREFIX.length), Array.isArray(value) ? value.join(', ') : value);
  }
  const contentType = one(headers, 'content-type');
  if (contentType !== undefined && forwarded['content-type'] === undefined)
    forwarded['content-type'] = contentType;
  return {
    connectionId,
    providerConfigKey,
    retries,
    retryOn,
    baseUrlOverride: override === '' ? undefined : override,
    decompress: bool(headers, 'decompress'),
    forwardHeadersOnRedirect: bool(headers, 'forward-headers-on-redirect'),
    headers: forwarded,
  };
}

/** Copies upstream response headers that are safe to pass back (no hop-by-hop, cookies or HSTS). */
export function responseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  decompressed: boolean,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || RESPONSE_DROPPED.has(name)) continue;
    if (decompressed && name === 'content-encoding') continue;
    out[name] = value;
  }
  const length = upstream['content-length'];
  if (!decompressed && typeof length === 'string') out['content-length'] = length;
  return out;
}

/** Header values for the activity log: credential-bearing ones replaced by `[redacted]`. */
export function redactHeaders(
  headers: Record<string, string>,
  protectedNames: Set<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    out[name] = protectedNames.has(name) || secretName(name) ? '[redacted]' : (headers[name] as string);
  }
  return out;
}

// Header names repeat from request to request: remember which look secret instead of testing each time.
const secretNames = new Map<string, boolean>();
function secretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name);
    if (secretNames.size >= 1024) secretNames.clear();
    secretNames.set(name, secret);
  }
  return secret;
}

/** A URL for the activity log: secret-looking and credential-bearing query values replaced by `[redacted]`. */
export function redactUrl(origin: string, path: string, secretQuery: Set<string>): string {
  const q = path.indexOf('?');
  if (q === -1) return origin + path;
  const query = path
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const [name = ''] = pair.split('=');
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // keep
      }
      return secretQuery.has(decoded) || SECRET_NAME.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${origin}${path.slice(0, q)}?${query}`;
}
