import type { Provider } from '@ferry/providers';
import { FerryError } from '../errors.js';

/**
 * Where a provider interpolates a value: into a URL's host (`https://${connectionConfig.subdomain}.zendesk.com`),
 * as the start of a URL (`${connectionConfig.instance_url}`), into a URL's path or query, or into a header value.
 */
export type Placement = 'hostname' | 'url' | 'path' | 'header';

const PLACEHOLDER = /\$\{\s*([A-Za-z_$][\w$]*(?:\.[\w$-]+)*)\s*\}/g;
/** `${base64(…)}`: the function's output is encoded, so the values inside it may be anything. */
const FUNCTION_CALL = /\$\{\s*\w+\((?:[^{}]|\{[^{}]*\})*\)\s*\}/g;

const HOSTNAME_BREAKERS = /[:/@?#\\%[\]\s\p{Cc}]/u;
const PATH_BREAKERS = /[/\\?#%\s\p{Cc}]/u;
/** RFC 9110 field-value characters: tab, visible ASCII, space and obs-text (Latin-1 above 0x7f). */
const HEADER_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/**
 * What is wrong with a value for where it goes, or undefined when it fits.
 * @param placement - Where the value is interpolated.
 * @param value - The value as text.
 */
export function placementProblem(placement: Placement, value: string): string | undefined {
  switch (placement) {
    case 'hostname':
      return HOSTNAME_BREAKERS.test(value)
        ? 'is interpolated into a hostname: it may not contain : / @ ? # \\ % [ ], whitespace or control characters'
        : undefined;
    case 'path':
      return PATH_BREAKERS.test(value) || value === '.' || value === '..'
        ? 'is interpolated into a URL path: it must be one segment, without / \\ ? # %, whitespace or control characters'
        : undefined;
    case 'url': {
      let url: URL | undefined;
      try {
        url = /[\s\p{Cc}]/u.test(value) ? undefined : new URL(value);
      } catch {
        url = undefined;
      }
      return url && (url.protocol === 'https:' || url.protocol === 'http:')
        ? undefined
        : 'is interpolated as a URL: it must be an http(s) URL without whitespace or control characters';
    }
    case 'header':
      return HEADER_VALUE.test(value)
        ? undefined
        : 'is sent in an HTTP header: it may contain only tab, printable ASCII and Latin-1 characters (no CR, LF or NUL)';
  }
}

type Placements = Map<string, Set<Placement>>;

function add(found: Placements, expression: string, placement: Placement): void {
  const set = found.get(expression) ?? new Set<Placement>();
  set.add(placement);
  found.set(expression, set);
}

/** Blanks function calls out (keeping offsets) so that only raw placeholders are looked at. */
function withoutCalls(template: string): string {
  return template.replace(FUNCTION_CALL, (call) => ' '.repeat(call.length));
}

function addUrl(found: Placements, template: string | undefined, pathOnly = false): void {
  if (!template) return;
  for (const alternative of template.split('||')) {
    const text = withoutCalls(alternative.trim());
    const scheme = text.indexOf('://');
    const rest = scheme === -1 ? -1 : text.slice(scheme + 3).search(/[/?#]/);
    const hostEnd = scheme === -1 ? -1 : rest === -1 ? text.length : scheme + 3 + rest;
    for (const match of text.matchAll(PLACEHOLDER)) {
      const at = match.index;
      const expression = match[1] ?? '';
      if (pathOnly) add(found, expression, 'path');
      else if (at === 0) add(found, expression, 'url');
      else if (scheme !== -1 && at > scheme && at < hostEnd) add(found, expression, 'hostname');
      else add(found, expression, 'path');
    }
  }
}

function addHeaders(found: Placements, headers: Readonly<Record<string, string>> | undefined): void {
  for (const template of Object.values(headers ?? {})) {
    for (const match of withoutCalls(template).matchAll(PLACEHOLDER)) add(found, match[1] ?? '', 'header');
  }
}

const cache = new WeakMap<Provider, Placements>();

/**
 * Where a provider interpolates each placeholder expression (`connectionConfig.subdomain`, `apiKey`, …): its
 * authorization, token, refresh and request URLs (and parameters that are URLs), the proxy base URL and headers,
 * and the verification request.
 * @param provider - A provider of the catalog.
 * @returns Each expression with the places it goes.
 */
export function placementsOf(provider: Provider): ReadonlyMap<string, ReadonlySet<Placement>> {
  const hit = cache.get(provider);
  if (hit) return hit;
  const found: Placements = new Map();
  addUrl(found, provider.authorization_url);
  const tokenUrls = typeof provider.token_url === 'string' ? [provider.token_url] : provider.token_url;
  for (const url of Object.values(tokenUrls ?? {})) addUrl(found, url);
  addUrl(found, provider.refresh_url);
  addUrl(found, provider.request_url);
  addUrl(found, provider.proxy?.base_url);
  addHeaders(found, provider.proxy?.headers);
  // A parameter that is itself a URL (auth0's `audience: https://${connectionConfig.subdomain}.auth0.com/api/v2/`).
  for (const params of [
    provider.authorization_params,
    provider.token_params,
    provider.refresh_params,
    provider.request_params,
  ]) {
    for (const template of Object.values(params ?? {})) if (template.includes('://')) addUrl(found, template);
  }
  const verification = provider.proxy?.verification;
  addUrl(found, verification?.base_url_override);
  for (const endpoint of verification?.endpoints ?? []) addUrl(found, endpoint, true);
  addHeaders(found, verification?.headers);
  cache.set(provider, found);
  return found;
}

function walk(root: unknown, keys: readonly string[]): unknown {
  let current = root;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The values a connection brings to a provider's templates, and the request fields they came from. */
export interface InterpolatedValues {
  /** The connection config, and the name of its field in the request (`connection_config`, `params`, …). */
  connectionConfig?: { value: Readonly<Record<string, unknown>>; field: string };
  /** The credentials, and the name of their field in the request (`credentials`, or `` for top-level fields). */
  credentials?: { value: Readonly<Record<string, unknown>>; field: string };
}

function fail(field: string, problem: string): never {
  throw new FerryError('invalid_body', `Invalid body. ${field}: ${problem}.`, {
    errors: [{ path: field, message: problem }],
  });
}

const join = (field: string, rest: string): string => (field ? `${field}.${rest}` : rest);

/**
 * Checks, before they are saved, the connection-config values and credentials a provider interpolates, each by
 * where it goes ({@link placementsOf}): a hostname part may not carry `: / @ ? # \ %`, whitespace or control
 * characters; a URL must be http(s); a path part must be one segment; a header value only tab, printable ASCII and
 * Latin-1 (no CR, LF, NUL). Tokens sent as `Authorization: Bearer` are header values too. Values the provider does
 * not interpolate, and non-primitive values (which never interpolate), are left alone.
 * @param provider - The integration's provider.
 * @param values - The connection config and/or credentials, with the request fields they came from.
 * @throws FerryError `invalid_body` naming the first field that does not fit.
 */
export function checkInterpolatedValues(provider: Provider, values: InterpolatedValues): void {
  const config = values.connectionConfig;
  const creds = values.credentials;
  for (const [expression, placements] of placementsOf(provider)) {
    const path = expression.split('.');
    let value: unknown;
    let field: string | undefined;
    if (path[0] === 'connectionConfig' && config) {
      value = walk(config.value, path.slice(1));
      field = join(config.field, path.slice(1).join('.'));
    } else if (path[0] === 'credentials' && creds) {
      value = walk(creds.value, path.slice(1));
      field = join(creds.field, path.slice(1).join('.'));
    } else if ((expression === 'apiKey' || expression === 'accessToken') && creds) {
      const key = expression === 'apiKey' ? 'apiKey' : 'access_token';
      value = creds.value[key];
      field = join(creds.field, key);
    }
    if (field === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    for (const placement of placements) {
      const problem = placementProblem(placement, String(value));
      if (problem) fail(field, problem);
    }
  }
  if (creds) {
    for (const key of ['access_token', 'token']) {
      const token = creds.value[key];
      if (typeof token !== 'string') continue;
      const problem = placementProblem('header', token);
      if (problem) fail(join(creds.field, key), problem);
    }
  }
}
