import { z } from 'zod';

/** A header name, or several; the longest wait among them wins. */
const headerNames = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/**
 * HTTP statuses to retry on: an exact status (`429`), a class (`5xx`) or a range (`500-504`).
 * YAML numbers are turned into strings so consumers only ever see strings.
 */
const statusPattern = z
  .union([z.number().int(), z.string()])
  .transform((value) => String(value))
  .pipe(
    z
      .string()
      .regex(
        /^(?:[1-5]\d\d|[1-5]xx|[1-5]\d\d-[1-5]\d\d)$/,
        'expected a status (429), a class (5xx) or a range (500-504)',
      ),
  );

/** Where the proxy reads a rate-limit wait from, and which statuses it retries. */
export const retrySchema = z.strictObject({
  /** Header(s) holding the time the limit resets: epoch seconds, epoch milliseconds or an HTTP date. */
  at: headerNames.optional(),
  /** Header(s) holding the number of seconds to wait. */
  after: headerNames.optional(),
  /** Header holding the requests left in the window; `0` makes the response retryable. */
  remaining: z.string().min(1).optional(),
  /** Only these statuses are retryable when set (otherwise ≥500, 429 and 401). */
  error_code: z.array(statusPattern).min(1).optional(),
  /** A wait read from the JSON body: a path, a regex whose first group is the value, and how to read it. */
  in_body: z
    .strictObject({
      path: z.string().min(1),
      value: z.string().min(1),
      strategy: z.enum(['after', 'at']),
    })
    .optional(),
});

const paginateCommon = {
  /** Query (or body) parameter carrying the page size. */
  limit_name_in_request: z.string().min(1).optional(),
  /** Dotted path to the records array in the response body. */
  response_path: z.string().min(1).optional(),
  /** Page size to ask for. */
  limit: z.number().int().positive().optional(),
};

/** Cursor pagination: the next cursor is read from the body and sent back as a parameter. */
export const cursorPaginationSchema = z.strictObject({
  type: z.literal('cursor'),
  cursor_path_in_response: z.string().min(1),
  cursor_name_in_request: z.string().min(1),
  ...paginateCommon,
});

/** Link pagination: the next page URL comes from a `Link` header relation or a body path. */
export const linkPaginationSchema = z
  .strictObject({
    type: z.literal('link'),
    link_rel_in_response_header: z.string().min(1).optional(),
    link_path_in_response_body: z.string().min(1).optional(),
    ...paginateCommon,
  })
  .refine(
    (value) =>
      value.link_rel_in_response_header !== undefined || value.link_path_in_response_body !== undefined,
    {
      message: 'link pagination needs link_rel_in_response_header or link_path_in_response_body',
    },
  );

/** Offset pagination: an offset (or page number) parameter grows each page. */
export const offsetPaginationSchema = z.strictObject({
  type: z.literal('offset'),
  offset_name_in_request: z.string().min(1),
  /** The first offset or page number (default 0). */
  offset_start_value: z.number().int().nonnegative().optional(),
  /** `per-page` adds one per page (page numbers); `by-response-size` adds the records received. */
  offset_calculation_method: z.enum(['per-page', 'by-response-size']).optional(),
  ...paginateCommon,
});

/** One of the three pagination styles, told apart by `type`. */
export const paginateSchema = z.discriminatedUnion('type', [
  cursorPaginationSchema,
  linkPaginationSchema,
  offsetPaginationSchema,
]);

/** The request that proves API-key or basic credentials work before they are saved. */
export const verificationSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']),
  /** Paths tried in order, relative to the proxy base URL (or `base_url_override`); one success is enough. */
  endpoints: z.array(z.string().min(1)).min(1),
  base_url_override: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  data: z.unknown().optional(),
});

/** How the proxy reaches the provider's API. */
export const proxySchema = z.strictObject({
  /** Base URL, interpolated; `A || B` picks B when A has an unresolved placeholder. */
  base_url: z.string().min(1),
  /** Headers added to every request; entries whose placeholders do not resolve are dropped. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Query parameters added to every request, interpolated like headers. */
  query: z.record(z.string(), z.string()).optional(),
  /** Fields merged into every JSON body, interpolated. */
  body: z.record(z.string(), z.unknown()).optional(),
  retry: retrySchema.optional(),
  paginate: paginateSchema.optional(),
  verification: verificationSchema.optional(),
  /** Ask the provider for compressed responses and decompress them. */
  decompress: z.boolean().optional(),
  /** Re-send the headers (auth included) when following a redirect. */
  forward_headers_on_redirect: z.boolean().optional(),
});

/** Proxy settings of a provider. */
export type ProxyConfig = z.infer<typeof proxySchema>;
/** Rate-limit and retry settings of a provider's proxy. */
export type RetryConfig = z.infer<typeof retrySchema>;
/** Pagination settings, one of three styles. */
export type PaginateConfig = z.infer<typeof paginateSchema>;
/** Cursor pagination settings. */
export type CursorPagination = z.infer<typeof cursorPaginationSchema>;
/** Link pagination settings. */
export type LinkPagination = z.infer<typeof linkPaginationSchema>;
/** Offset pagination settings. */
export type OffsetPagination = z.infer<typeof offsetPaginationSchema>;
/** The credential check run before API-key or basic credentials are saved. */
export type VerificationConfig = z.infer<typeof verificationSchema>;
