import { parse as parseFlat } from 'node:querystring';
import qs from 'qs';
import { MAX_FILTER_VALUES } from './validate.js';

/**
 * Parses a query string. Plain `a=1&b=2&b=3` strings (nearly all requests) take node's flat parser; only strings
 * with bracket keys such as `tags[plan]=pro` (Nango's tag filters) pay for `qs`, limited in depth and array size.
 * How many values one parameter may carry is checked after parsing, with every other request input
 * (`checkQuery` in validate.ts).
 */
export function parseQuery(query: string): Record<string, unknown> {
  if (!/\[|%5b/i.test(query)) return { ...parseFlat(query) };
  return qs.parse(query, { depth: 2, arrayLimit: MAX_FILTER_VALUES, parameterLimit: 1000 });
}
