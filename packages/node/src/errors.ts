/** One invalid field of a request, as listed in an error envelope's `errors`. */
export interface FieldError {
  /** Dotted path of the field, e.g. `end_user.id`. */
  readonly path: string;
  /** What is wrong with it. */
  readonly message: string;
  /** A machine-readable reason, when the server gives one. */
  readonly code?: string;
}

/**
 * Error codes the SDK itself produces. Every other `FerryError.code` comes from the server's error envelope
 * (e.g. `unknown_connection`, `invalid_body`, `unknown_account`).
 */
export const ClientErrorCode = {
  /** The request never got an HTTP response: connection refused, reset, DNS failure or timeout. */
  networkError: 'network_error',
  /** The server answered with a body that is not the JSON the API promises (e.g. an HTML 502 page). */
  unexpectedResponse: 'unexpected_response',
} as const;

/** A code produced by the SDK itself rather than by the server. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** What {@link FerryError}'s constructor takes. */
export interface FerryErrorInit {
  /** Stable machine-readable code: the server's `error.code`, or a {@link ClientErrorCode}. */
  readonly code: string;
  /** Human-readable message. */
  readonly message: string;
  /** HTTP status of the response, or `0` when there was none (`network_error`). */
  readonly status: number;
  /** Per-field validation errors, when the server lists them. */
  readonly errors?: readonly FieldError[] | undefined;
  /** Extra details some server codes carry (e.g. the provider's answer for `invalid_credentials`). */
  readonly payload?: unknown;
  /** The underlying error (e.g. undici's), for `network_error` and `unexpected_response`. */
  readonly cause?: unknown;
}

/**
 * Thrown by every {@link Ferry} method when a request fails: the server answered with an error envelope
 * `{ error: { code, message, errors? } }`, the response was not the expected JSON (`unexpected_response`),
 * or no response arrived at all (`network_error`, `status` 0). Argument misuse throws `TypeError` instead.
 */
export class FerryError extends Error {
  /** Stable machine-readable code, e.g. `unknown_connection` or `network_error`. */
  readonly code: string;
  /** HTTP status of the response, or `0` when there was none. */
  readonly status: number;
  /** Per-field validation errors, when the server lists them. */
  readonly errors?: readonly FieldError[];
  /** Extra details some server codes carry. */
  readonly payload?: unknown;

  /**
   * @param init - The code, message and status, and optionally field errors, payload and cause.
   */
  constructor(init: FerryErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'FerryError';
    this.code = init.code;
    this.status = init.status;
    if (init.errors !== undefined) this.errors = init.errors;
    if (init.payload !== undefined) this.payload = init.payload;
  }
}

/**
 * Tells whether a value is a {@link FerryError}, also across realms and duplicated package copies, where
 * `instanceof` fails: it checks `name` and the type of `code` and `status`.
 *
 * @param value - Anything caught.
 * @returns `true` if `value` looks like a `FerryError`.
 */
export function isFerryError(value: unknown): value is FerryError {
  if (value instanceof FerryError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown; status?: unknown };
  return (
    candidate.name === 'FerryError' &&
    typeof candidate.code === 'string' &&
    typeof candidate.status === 'number'
  );
}
