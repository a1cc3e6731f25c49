import { AuthError, AuthErrorCode } from './errors.js';
import { call } from './http.js';
import { startPopupFlow, type AuthResult, type PopupFlow } from './popup.js';

/** Options of {@link Ferry}. */
export interface FerryOptions {
  /** The Ferry server's URL, e.g. `https://ferry.example.com`. */
  host: string;
  /** A connect session token your backend made with `POST /connect/sessions`. */
  connectSessionToken: string;
  /** Popup size in CSS pixels (500 × 600 by default). */
  width?: number;
  height?: number;
  /**
   * How long to keep asking the server for the result after the popup looks closed without a message (a provider
   * sending `Cross-Origin-Opener-Policy` makes a live popup look closed). Default 2 minutes; a real close then
   * rejects with `window_closed` after this long. {@link Ferry.clear} ends the wait at once.
   */
  closedWindowGraceMs?: number;
}

/** Credentials typed by the end user: an API key, a username and password, or an OAuth client (OAUTH2_CC). */
export type AuthCredentials =
  { apiKey: string } | { username: string; password: string } | { client_id: string; client_secret: string };

/** Options of {@link Ferry.auth}. */
export interface AuthOptions {
  /** Connection config values, e.g. `{ subdomain: 'acme' }`. */
  params?: Record<string, unknown>;
  /** For API-key, basic and client-credentials integrations: no popup, the credentials are posted. */
  credentials?: AuthCredentials;
  /** Extra authorize-URL parameters; `null` removes one the provider's template sets. */
  authorizationParams?: Record<string, string | null>;
  /** Scopes to ask for on top of the integration's. */
  userScopes?: string[];
}

function assertString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0)
    throw new TypeError(`${name} must be a non-empty string`);
}

/**
 * The browser client of a Ferry server: lets an end user connect an integration, through the OAuth popup or with
 * typed credentials. Calls are authenticated with a connect session token.
 */
export class Ferry {
  readonly #host: string;
  readonly #origin: string;
  readonly #token: string;
  readonly #width: number;
  readonly #height: number;
  readonly #grace: number;
  #running: PopupFlow | undefined;

  /** @throws TypeError when `host` is not an http(s) URL */
  constructor(options: FerryOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    let url: URL;
    try {
      url = new URL(options.host);
    } catch {
      throw new TypeError('host must be an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError('host must be an http(s) URL');
    this.#host = url.href.replace(/\/+$/, '');
    this.#origin = url.origin;
    this.#token = typeof options.connectSessionToken === 'string' ? options.connectSessionToken : '';
    this.#width = options.width ?? 500;
    this.#height = options.height ?? 600;
    this.#grace = options.closedWindowGraceMs ?? 120_000;
  }

  /**
   * Connects `integrationKey`. With `credentials`, posts them (API key and basic ones are tested by the server
   * first). Otherwise opens the OAuth popup — call this synchronously from the click handler.
   * @returns the integration key and the new (or re-authorized) connection's id
   * @throws TypeError for a missing integration key. Rejects with an {@link AuthError}: `blocked_by_browser`,
   *   `window_closed`, `missing_connect_session_token`, `connection_test_failed`, `state_err`, `token_err`,
   *   `access_denied`, `unknown_error`, or the server's code (e.g. `integration_not_allowed`)
   */
  auth(integrationKey: string, options: AuthOptions = {}): Promise<AuthResult> {
    assertString('integrationKey', integrationKey);
    if (!this.#token) return Promise.reject(missingToken());
    const c = options.credentials;
    if (c) {
      const key = encodeURIComponent(integrationKey);
      const body = { ...c, ...(options.params ? { connection_config: options.params } : {}) };
      const path =
        'apiKey' in c
          ? `/api-auth/api-key/${key}`
          : 'username' in c
            ? `/api-auth/basic/${key}`
            : `/oauth2/auth/${key}`;
      return call<AuthResult>(this.#host + path, this.#token, { method: 'POST', body });
    }
    this.#running?.cancel();
    const flow = startPopupFlow({
      host: this.#host,
      hostOrigin: this.#origin,
      token: this.#token,
      body: {
        provider_config_key: integrationKey,
        ...(options.params ? { params: options.params } : {}),
        ...(options.userScopes ? { user_scopes: options.userScopes } : {}),
        ...(options.authorizationParams ? { authorization_params: options.authorizationParams } : {}),
      },
      width: this.#width,
      height: this.#height,
      closedWindowGraceMs: this.#grace,
    });
    this.#running = flow;
    return flow.result;
  }

  /**
   * Creates a connection for an integration without auth (`auth_mode: NONE`); no popup.
   * @throws TypeError for a missing integration key; rejects with an {@link AuthError}
   */
  create(integrationKey: string, options: { params?: Record<string, unknown> } = {}): Promise<AuthResult> {
    assertString('integrationKey', integrationKey);
    if (!this.#token) return Promise.reject(missingToken());
    const body = options.params ? { connection_config: options.params } : {};
    return call<AuthResult>(
      `${this.#host}/auth/unauthenticated/${encodeURIComponent(integrationKey)}`,
      this.#token,
      {
        method: 'POST',
        body,
      },
    );
  }

  /** Ends a running popup flow: closes the popup, and its promise rejects with `window_closed`. */
  clear(): void {
    this.#running?.cancel();
    this.#running = undefined;
  }
}

function missingToken(): AuthError {
  return new AuthError(AuthErrorCode.missingConnectSessionToken, 'A connect session token is required.');
}
