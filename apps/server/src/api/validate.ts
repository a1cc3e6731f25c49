import type { z } from 'zod';
import { FerryError, type ErrorCode, type FieldError } from '../errors.js';

/** Deepest nesting of objects and arrays accepted in a JSON body (`{"a":{}}` is depth 2). */
export const MAX_JSON_DEPTH = 64;

/** Most values one query parameter may carry (`tags[a]=…&tags[b]=…`, `include=a&include=b`). */
export const MAX_FILTER_VALUES = 100;

/** Turns zod issues into the envelope's `errors` list. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
}

function whereOf(code: ErrorCode): string {
  return code === 'invalid_body'
    ? 'body'
    : code === 'invalid_query_params'
      ? 'query parameters'
      : code === 'invalid_headers'
        ? 'headers'
        : 'URL';
}

/** What keeps a string from being stored alike on both databases, or undefined. */
function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000).';
  // A lone UTF-16 surrogate (`"\ud800"` in JSON) is not Unicode text, and PostgreSQL's jsonb refuses it.
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    return 'contains a lone UTF-16 surrogate (not valid Unicode).';
  }
  return undefined;
}

function invalid(code: ErrorCode, path: string, message: string): FerryError {
  return new FerryError(code, `Invalid ${whereOf(code)}. ${path ? `${path}: ` : ''}${message}`, {
    errors: [{ path, message }],
  });
}

/**
 * Parses a value with a schema.
 * @throws FerryError with `code` (invalid_body, invalid_query_params, …) and field errors when it does not fit.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, code: ErrorCode): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error);
  const first = errors[0];
  const detail = first ? ` ${first.path ? `${first.path}: ` : ''}${first.message}` : '';
  throw new FerryError(code, `Invalid ${whereOf(code)}.${detail}`, { errors });
}

/** An object or array still to visit, with the way back to the root for naming a field. */
interface Frame {
  value: object;
  parent: Frame | undefined;
  key: string;
  depth: number;
}

function pathOf(frame: Frame, key: string | undefined): string {
  const parts = key === undefined ? [] : [key];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) parts.push(f.key);
  return parts.reverse().join('.');
}

/**
 * Checks a parsed request value (a JSON body or a parsed query) without recursion, so that no depth of nesting
 * can overflow the stack: nesting at most `maxDepth`, no NUL (U+0000) and no lone UTF-16 surrogate in any string or
 * key — PostgreSQL text and jsonb cannot store them while SQLite can, so they are refused before either sees
 * them — and, when `maxValues` is given, at most that many values in any array or object below the top level.
 * @param value - The parsed value.
 * @param options - `code` for the error, `maxDepth`, optional `maxValues` per parameter.
 * @throws FerryError with `code` and the path of the first offending field.
 */
export function checkInputValue(
  value: unknown,
  options: { code: ErrorCode; maxDepth: number; maxValues?: number },
): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) throw invalid(options.code, '', problem);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const stack: Frame[] = [{ value, parent: undefined, key: '', depth: 1 }];
  const fail = (frame: Frame, key: string | undefined, message: string): never => {
    throw invalid(options.code, pathOf(frame, key), message);
  };
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    if (frame.depth > options.maxDepth)
      fail(frame, undefined, `is nested deeper than ${options.maxDepth} levels.`);
    const depth = frame.depth + 1;
    if (Array.isArray(frame.value)) {
      const list = frame.value as unknown[];
      if (options.maxValues !== undefined && frame.depth > 1 && list.length > options.maxValues) {
        fail(frame, undefined, `has more than ${options.maxValues} values.`);
      }
      for (let i = 0; i < list.length; i++) {
        const child = list[i];
        if (typeof child === 'string') {
          const problem = textProblem(child);
          if (problem) fail(frame, String(i), problem);
        } else if (typeof child === 'object' && child !== null) {
          stack.push({ value: child, parent: frame, key: String(i), depth });
        }
      }
      continue;
    }
    const record = frame.value as Record<string, unknown>;
    let count = 0;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      count++;
      const keyProblem = textProblem(key);
      if (keyProblem) fail(frame, key, `the name ${keyProblem}`);
      const child = record[key];
      if (typeof child === 'string') {
        const problem = textProblem(child);
        if (problem) fail(frame, key, problem);
      } else if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, parent: frame, key, depth });
      }
    }
    if (options.maxValues !== undefined && frame.depth > 1 && count > options.maxValues) {
      fail(frame, undefined, `has more than ${options.maxValues} values.`);
    }
  }
}

/**
 * Checks a parsed query string: no NUL or lone surrogate, at most {@link MAX_FILTER_VALUES} values per parameter.
 * @throws FerryError `invalid_query_params` naming the parameter.
 */
export function checkQuery(query: unknown): void {
  checkInputValue(query, { code: 'invalid_query_params', maxDepth: 8, maxValues: MAX_FILTER_VALUES });
}

/**
 * The checks every request's input goes through before a route sees it, whatever the route does with it:
 * no `%00` in the path (path parameters such as connection ids are stored), the query as in {@link checkQuery},
 * and a JSON body nested at most {@link MAX_JSON_DEPTH} deep with no NUL or lone surrogate in any string or key.
 * @throws FerryError `invalid_uri_params`, `invalid_query_params` or `invalid_body` naming the field.
 */
export function checkRequestInput(req: { path: string; query: unknown; body?: unknown }): void {
  if (/%00/i.test(req.path)) throw invalid('invalid_uri_params', '', 'contains a NUL character (%00).');
  checkQuery(req.query);
  if (req.body !== undefined) checkInputValue(req.body, { code: 'invalid_body', maxDepth: MAX_JSON_DEPTH });
}
