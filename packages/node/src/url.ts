/** A query value the SDK can serialise. Objects become `key[sub]=value` pairs (deepObject style). */
export type QueryValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly (string | number | boolean)[]
  | { readonly [key: string]: string | number | boolean | undefined };

/** Query parameters of one request; `undefined` and `null` values are left out. */
export type QueryParams = { readonly [key: string]: QueryValue };

/**
 * Serialises query parameters the way the Ferry (and Nango) server parses them: arrays repeat the key
 * (`include=a&include=b`), objects use brackets (`tags[team]=core`), booleans become `true`/`false`.
 *
 * @param query - The parameters; `undefined` and `null` values are skipped.
 * @returns `''`, or the query string with its leading `?`.
 * @throws TypeError if a value is not a string, finite number, boolean, array or flat object.
 */
export function buildQuery(query: QueryParams | undefined): string {
  if (query === undefined) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value as readonly unknown[]) search.append(key, scalar(key, item));
    } else if (typeof value === 'object') {
      for (const [sub, item] of Object.entries(value)) {
        if (item !== undefined) search.append(`${key}[${sub}]`, scalar(`${key}[${sub}]`, item));
      }
    } else {
      search.append(key, scalar(key, value));
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function scalar(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`Query parameter "${key}" must be a string, a finite number or a boolean`);
}

/**
 * Builds a request path from literal segments and values, percent-encoding each value so that `/`, `?`,
 * `#`, spaces, `..` and the like inside an id cannot change the route.
 *
 * @example path`/connections/${connectionId}` → `/connections/a%2Fb`
 * @returns The encoded path.
 */
export function path(strings: TemplateStringsArray, ...values: readonly string[]): string {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += encodeSegment(value) + (strings[index + 1] ?? '');
  });
  return out;
}

/** `encodeURIComponent`, plus `.` and `..`, which proxies and servers would otherwise resolve as dot segments. */
function encodeSegment(value: string): string {
  return value === '.' || value === '..' ? value.replaceAll('.', '%2E') : encodeURIComponent(value);
}

/** Where a client sends its requests: the server's origin and an optional path prefix. */
export interface BaseUrl {
  /** `protocol://host:port`. */
  readonly origin: string;
  /** A path prefix without a trailing `/` (e.g. `/ferry` behind a reverse proxy), or `''`. */
  readonly prefix: string;
}

/**
 * Parses the `host` option: an absolute `http:` or `https:` URL, optionally with a path prefix. A trailing
 * `/` is ignored.
 *
 * @param host - e.g. `http://localhost:3003` or `https://api.example.org/ferry/`.
 * @returns The origin and path prefix.
 * @throws TypeError if `host` is not such a URL, or has a query string, fragment or credentials.
 */
export function parseBaseUrl(host: unknown): BaseUrl {
  if (typeof host !== 'string' || host === '') {
    throw new TypeError('"host" must be a non-empty string such as "http://localhost:3003"');
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new TypeError('"host" must be an absolute http: or https: URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`"host" must use http: or https:, got "${url.protocol}"`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError('"host" must not contain a query string, a fragment or credentials');
  }
  return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') };
}
