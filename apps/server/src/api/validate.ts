import type { z } from 'zod';
import { FerryError, type ErrorCode, type FieldError } from '../errors.js';

/** Turns zod issues into the envelope's `errors` list. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
}

/**
 * Parses a value with a schema.
 * @throws FerryError with `code` (invalid_body, invalid_query_params, …) and field errors when it does not fit.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, code: ErrorCode): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error);
  const where =
    code === 'invalid_body'
      ? 'body'
      : code === 'invalid_query_params'
        ? 'query parameters'
        : code === 'invalid_headers'
          ? 'headers'
          : 'URL';
  const first = errors[0];
  const detail = first ? ` ${first.path ? `${first.path}: ` : ''}${first.message}` : '';
  throw new FerryError(code, `Invalid ${where}.${detail}`, { errors });
}
