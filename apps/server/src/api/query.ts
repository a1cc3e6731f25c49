import { parse as parseFlat } from 'node:querystring';
import qs from 'qs';

/**
 * Parses a query string. Plain `a=1&b=2&b=3` strings (nearly all requests) take node's flat parser; only strings
 * with bracket keys such as `tags[plan]=pro` (Nango's tag filters) pay for `qs`, limited in depth and array size.
 */
export function parseQuery(query: string): Record<string, unknown> {
  if (!/\[|%5b/i.test(query)) return { ...parseFlat(query) };
  return qs.parse(query, { depth: 2, arrayLimit: 100, parameterLimit: 1000 });
}
