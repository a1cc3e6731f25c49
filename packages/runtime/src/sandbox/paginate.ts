import type { PaginateConfig } from '../types.js';
import type { ProxyConfig, ProxyResponse } from './proxy.js';

/** Pagination settings: a providers.yaml `paginate` object merged with the call's `paginate`. */
export interface Paginate extends PaginateConfig {
  on_page?: (page: { nextPageParam: unknown; response: ProxyResponse }) => unknown;
}

/** Reads a lodash-style path such as `data.items` or `paging.next[0].after`. */
export function pick(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let current = value;
  for (const part of path.replace(/\[(\w+)\]/g, '.$1').split('.')) {
    if (part === '') continue;
    if (current === null || current === undefined) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Finds the URL of relation `rel` in an RFC 8288 Link header. */
export function linkFromHeader(header: string | undefined, rel: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]*)>(.*)/.exec(part.trim());
    if (!match) continue;
    const rels = /rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '')?.[1]?.split(/\s+/) ?? [];
    if (rels.includes(rel)) return match[1];
  }
  return undefined;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

function isEmptyCursor(cursor: unknown): boolean {
  return cursor === undefined || cursor === null || (typeof cursor === 'string' && cursor.trim() === '');
}

/**
 * Nango's `paginate`: calls `proxy` page after page (cursor, link or offset) and yields each non-empty
 * page as an array. Stops on a missing cursor or link, a repeated link, an empty page, or (offset with a
 * limit) a short page. `on_page` runs after each page as in Nango: for cursor and link after the last
 * one too (its `nextPageParam` is then undefined, or the repeated link); for offset not after a short page.
 * @throws TypeError when no pagination type is configured or a page is not an array
 */
export async function* paginate<T>(
  proxy: (config: ProxyConfig) => Promise<ProxyResponse>,
  config: ProxyConfig,
  defaults: Paginate | undefined,
): AsyncGenerator<T[], undefined, void> {
  const settings: Paginate = { ...defaults, ...(config.paginate as Paginate | undefined) };
  const { type } = settings;
  if (type !== 'cursor' && type !== 'link' && type !== 'offset') {
    throw new TypeError(
      `paginate: unknown pagination type "${String(type)}" (set paginate.type or the provider's proxy.paginate)`,
    );
  }
  const method = (config.method ?? 'GET').toUpperCase();
  const inBody = settings.in_body ?? (method === 'POST' || method === 'PUT' || method === 'PATCH');
  let params: Record<string, unknown> = {
    ...(typeof config.params === 'object' ? config.params : parseQuery(config.params)),
  };
  const data: Record<string, unknown> = inBody
    ? { ...(config.data as Record<string, unknown> | undefined) }
    : {};
  const set = (name: string | undefined, value: unknown): void => {
    if (!name) return;
    if (inBody) data[name] = value;
    else params[name] = value;
  };
  const limit = settings.limit === undefined ? undefined : Number(settings.limit);
  if (limit !== undefined) set(settings.limit_name_in_request, limit);
  let offset = Number(settings.offset_start_value ?? 0);
  if (type === 'offset') set(settings.offset_name_in_request, offset);
  let { endpoint, baseUrlOverride } = config;
  let lastLink: string | undefined;

  for (;;) {
    const request: ProxyConfig = {
      ...config,
      method,
      endpoint,
      baseUrlOverride,
      params,
      paginate: undefined,
    };
    if (inBody) request.data = data;
    const response = await proxy(request);
    const page = pick(response.data, settings.response_path);
    if (!Array.isArray(page)) {
      throw new TypeError(
        `paginate: the response${settings.response_path ? ` at "${settings.response_path}"` : ''} is not an array`,
      );
    }
    if (page.length === 0) return undefined;
    yield page as T[];

    // As Nango: on_page follows every page yielded, the last one included (cursor and link, with the
    // next page's parameter, undefined at the end); offset passes the offset of the page just read, and
    // stops before on_page on a short page.
    let next: unknown;
    let last = false;
    if (type === 'cursor') {
      next = pick(response.data, settings.cursor_path_in_response);
      if (typeof next === 'string') next = next.trim();
      last = isEmptyCursor(next);
      if (last) next = undefined;
      else set(settings.cursor_name_in_request, next);
    } else if (type === 'link') {
      next = settings.link_rel_in_response_header
        ? linkFromHeader(header(response.headers, 'link'), settings.link_rel_in_response_header)
        : pick(response.data, settings.link_path_in_response_body);
      last = typeof next !== 'string' || next === '' || next === lastLink;
      if (!last) {
        const link = next as string;
        lastLink = link;
        if (/^https?:\/\//i.test(link)) {
          const match = /^(https?:\/\/[^/?#]+)(.*)$/i.exec(link);
          baseUrlOverride = match?.[1];
          endpoint = match?.[2] || '/';
        } else {
          endpoint = link;
        }
        params = {};
      }
    } else {
      if (limit !== undefined && page.length < limit) return undefined;
      next = offset;
      offset += settings.offset_calculation_method === 'per-page' ? 1 : page.length;
      set(settings.offset_name_in_request, offset);
    }
    await settings.on_page?.({ nextPageParam: next, response });
    if (last) return undefined;
  }
}

/** Parses `a=1&b=2` into an object. */
export function parseQuery(query: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!query) return out;
  for (const pair of query.replace(/^\?/, '').split('&')) {
    if (!pair) continue;
    const [key = '', value = ''] = pair.split('=');
    out[decodeURIComponent(key)] = decodeURIComponent(value.replace(/\+/g, ' '));
  }
  return out;
}
