/** Error codes an {@link AuthError} carries. Server codes (e.g. `invalid_connect_session_token`) pass through as-is. */
export const AuthErrorCode = {
  blockedByBrowser: 'blocked_by_browser',
  windowClosed: 'window_closed',
  missingConnectSessionToken: 'missing_connect_session_token',
  connectionTestFailed: 'connection_test_failed',
  stateErr: 'state_err',
  tokenErr: 'token_err',
  accessDenied: 'access_denied',
  unknownError: 'unknown_error',
  /** The provider refused the scopes asked for. */
  invalidScope: 'invalid_scope',
  /** The provider refused the integration's OAuth app or request (check the integration). */
  providerConfigErr: 'provider_config_err',
  /** The provider had an error or is down. */
  providerUnavailable: 'provider_unavailable',
  /** The provider's callback carried an error Ferry does not know. */
  callbackErr: 'callback_err',
  /** The connect session does not allow this integration. */
  integrationNotAllowed: 'integration_not_allowed',
  /** The connect session token is wrong or has expired: ask your backend for a new one. */
  invalidConnectSessionToken: 'invalid_connect_session_token',
} as const;

/** A known error code, or a code the server sent. */
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode] | (string & {});

/** Why an auth flow failed: a stable `code` and a readable `message`. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Whether `value` is an {@link AuthError}, also across realms (tests `name` and `code`, not `instanceof`). */
export function isAuthError(value: unknown): value is AuthError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'AuthError' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** Normalises anything thrown into an AuthError (`unknown_error` when it is not one). */
export function toAuthError(err: unknown): AuthError {
  if (isAuthError(err)) return err;
  return new AuthError(
    AuthErrorCode.unknownError,
    err instanceof Error ? err.message : 'An unexpected error occurred.',
  );
}
