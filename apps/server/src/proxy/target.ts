import { FerryError } from '../errors.js';

/** Where a proxied request goes: the origin (one pool each) and the path with its query. */
export interface Target {
  origin: string;
  /** Path and query, percent-encoded, as sent on the request line. */
  path: string;
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// Characters left as they are in a path or query; everything else is percent-encoded.
const UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]]|%(?![0-9A-Fa-f]{2})/g;

function badPath(message: string): FerryError {
  return new FerryError('invalid_uri_params', message, { errors: [{ path: 'path', message }] });
}

/** Encodes what may not appear raw in a request line (spaces, non-ASCII, a stray `%`). */
export function encodeUnsafe(text: string): string {
  return text.replace(UNSAFE, (ch) =>
    ch === '%'
      ? '%25'
      : Buffer.from(ch, 'utf8').reduce((s, b) => s + '%' + b.toString(16).toUpperCase().padStart(2, '0'), ''),
  );
}

/**
 * Parses and checks a base URL (the provider's interpolated `proxy.base_url`, or an override).
 * @throws FerryError `invalid_headers` when it is not an http(s) URL, or carries user info.
 */
export function parseBaseUrl(baseUrl: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new FerryError('invalid_headers', `${source} is not a valid URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FerryError('invalid_headers', `${source} must be an http or https URL.`);
  if (url.username || url.password)
    throw new FerryError('invalid_headers', `${source} must not carry credentials.`);
  return url;
}

function stripBase(endpoint: string, base: URL): string {
  const prefix = base.origin + base.pathname.replace(/\/+$/, '');
  if (endpoint.toLowerCase().startsWith(prefix.toLowerCase())) {
    const rest = endpoint.slice(prefix.length);
    if (rest === '' || rest.startsWith('/') || rest.startsWith('?')) return rest;
  }
  throw badPath('The endpoint must be a path relative to the provider base URL, not an absolute URL.');
}

/** Drops query pairs whose name is in `names`. */
function withoutNames(query: string, names: Set<string>): string {
  if (query === '' || names.size === 0) return query;
  return query
    .split('&')
    .filter((pair) => {
      const raw = pair.split('=')[0] ?? '';
      let name = raw;
      try {
        name = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return !names.has(name);
    })
    .join('&');
}

/**
 * Joins a base URL with an endpoint (`/repos/a/b?x=1`) and the caller's query, then appends the
 * provider's template query, whose names the caller cannot override.
 *
 * @throws FerryError `invalid_uri_params` for control characters (CR/LF injection), an absolute URL that
 *   is not under the base URL, or a `.`/`..` segment (even percent-encoded) that could leave the base path.
 */
export function buildTarget(options: {
  base: URL;
  endpoint: string;
  query?: string | undefined;
  templateQuery?: Record<string, string> | undefined;
}): Target {
  const { base } = options;
  let endpoint = options.endpoint;
  let decodedForCheck = endpoint;
  try {
    decodedForCheck = decodeURIComponent(endpoint);
  } catch {
    // a malformed escape is encoded as %25 below
  }
  if (CONTROL.test(endpoint) || CONTROL.test(decodedForCheck))
    throw badPath('The path contains control characters.');
  const bare = endpoint.replace(/^[/\\]+/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(bare)) endpoint = stripBase(bare, base);
  endpoint = endpoint.replace(/#.*$/s, '');
  const q = endpoint.indexOf('?');
  const rawPath = q === -1 ? endpoint : endpoint.slice(0, q);
  const endpointQuery = q === -1 ? '' : endpoint.slice(q + 1);
  for (const segment of rawPath.split(/[/\\]/)) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // not a dot segment
    }
    if (decoded.split(/[/\\]/).some((part) => part === '.' || part === '..'))
      throw badPath('The path may not contain "." or ".." segments.');
  }
  const path = encodeUnsafe(rawPath.replace(/\\/g, '%5C')).replace(/^\/+/, '');
  const basePath = base.pathname.replace(/\/+$/, '');
  const template = options.templateQuery ?? {};
  const names = new Set(Object.keys(template));
  const parts = [
    withoutNames(base.search.replace(/^\?/, ''), names),
    withoutNames(encodeUnsafe(endpointQuery), names),
    withoutNames(encodeUnsafe(options.query ?? ''), names),
    new URLSearchParams(template).toString(),
  ].filter((p) => p !== '');
  return {
    origin: base.origin,
    path: `${basePath}/${path}${parts.length > 0 ? `?${parts.join('&')}` : ''}`,
  };
}
