/** Every error code the server can answer with. Codes never change once released. */
export const errorCodes = [
  'invalid_body',
  'invalid_query_params',
  'invalid_headers',
  'invalid_uri_params',
  'missing_auth_header',
  'unknown_account',
  'invalid_connect_session_token',
  'forbidden',
  'not_found',
  'unknown_provider_config',
  'unknown_connection',
  'duplicate_integration',
  'duplicate_connection',
  'payload_too_large',
  'unsupported_media_type',
  'connection_test_failed',
  'invalid_credentials',
  'missing_connect_session_token',
  'integration_not_allowed',
  'auth_mode_err',
  'missing_client_credentials',
  'token_err',
  'forbidden_url',
  'proxy_timeout',
  'upstream_unreachable',
  'proxy_response_too_large',
  'invalid_cursor',
  'unknown_model',
  'invalid_record',
  'concurrent_deployment',
  'unknown_script',
  'ambiguous_function',
  'not_supported',
  'server_error',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** The one table from error code to HTTP status; adding a code fails the type check until it is mapped here. */
export const httpStatusByCode: Record<ErrorCode, number> = {
  invalid_body: 400,
  invalid_query_params: 400,
  invalid_headers: 400,
  invalid_uri_params: 400,
  missing_auth_header: 401,
  unknown_account: 401,
  invalid_connect_session_token: 401,
  forbidden: 403,
  not_found: 404,
  unknown_provider_config: 404,
  unknown_connection: 404,
  duplicate_integration: 409,
  duplicate_connection: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  connection_test_failed: 400,
  invalid_credentials: 424,
  missing_connect_session_token: 401,
  integration_not_allowed: 403,
  auth_mode_err: 400,
  missing_client_credentials: 400,
  token_err: 424,
  forbidden_url: 403,
  proxy_timeout: 504,
  upstream_unreachable: 502,
  proxy_response_too_large: 502,
  invalid_cursor: 400,
  unknown_model: 404,
  invalid_record: 400,
  concurrent_deployment: 409,
  unknown_script: 404,
  ambiguous_function: 400,
  not_supported: 501,
  server_error: 500,
};

/** One field-level problem in a request. */
export interface FieldError {
  path: string;
  message: string;
  code?: string;
}

/** A domain error with a stable code; the error middleware turns it into the envelope. */
export class FerryError extends Error {
  override readonly name = 'FerryError';
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly payload: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; errors?: FieldError[]; payload?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.errors = options.errors;
    this.payload = options.payload;
  }

  get status(): number {
    return httpStatusByCode[this.code];
  }
}

/** The error envelope every error response carries. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; errors?: FieldError[]; payload?: unknown };
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}

/**
 * Normalises anything thrown into a FerryError. Tests `code`/`name` rather than `instanceof` so that
 * errors crossing realms keep their meaning; body-parser errors are mapped by their `type`.
 */
export function toFerryError(err: unknown): FerryError {
  if (err instanceof FerryError) return err;
  if (typeof err === 'object' && err !== null) {
    const e = err as { name?: unknown; code?: unknown; message?: unknown; type?: unknown; status?: unknown };
    if (e.name === 'FerryError' && isErrorCode(e.code)) {
      return new FerryError(e.code, typeof e.message === 'string' ? e.message : e.code, { cause: err });
    }
    switch (e.type) {
      case 'entity.parse.failed':
        return new FerryError('invalid_body', 'The request body is not valid JSON.', { cause: err });
      case 'entity.too.large':
        return new FerryError('payload_too_large', 'The request body is too large.', { cause: err });
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new FerryError('unsupported_media_type', 'The request body encoding is not supported.', {
          cause: err,
        });
      case 'request.aborted':
      case 'request.size.invalid':
      case 'stream.encoding.set':
        return new FerryError('invalid_body', 'The request body could not be read.', { cause: err });
      default:
        break;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      return new FerryError('invalid_body', 'The request could not be processed.', { cause: err });
    }
  }
  return new FerryError('server_error', 'An unexpected error occurred.', { cause: err });
}

/** Builds the envelope for an error. */
export function toEnvelope(err: FerryError): ErrorEnvelope {
  const error: ErrorEnvelope['error'] = { code: err.code, message: err.message };
  if (err.errors && err.errors.length > 0) error.errors = err.errors;
  if (err.payload !== undefined) error.payload = err.payload;
  return { error };
}
