import type { Request } from 'express';
import {
  CONNECT_SESSION_PREFIX,
  type ConnectSession,
  type ConnectSessionService,
} from '../connect/service.js';
import { FerryError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { FlowContext } from './flows.js';

/** Who starts an auth flow: a connect session, or (deprecated) an environment's public key. */
export type Caller =
  | { kind: 'session'; environmentId: number; session: ConnectSession; endUserRowId: number | null }
  | { kind: 'public_key'; environmentId: number; connectionId: string | null };

/** What the browser may add to a flow: connection config, scopes and authorize-URL params. */
export interface FlowRequest {
  params?: Record<string, unknown> | undefined;
  userScopes?: string[] | undefined;
  authorizationParams?: Record<string, string | null> | undefined;
}

const queryString = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;

/**
 * Resolves the caller of an auth route from `Authorization: Bearer <connect session token>`, the
 * `connect_session_token` query parameter, or — where the route still takes it, as Nango's do — the deprecated
 * `public_key` (+ `connection_id`).
 * @param options.publicKey whether this route accepts `public_key`; when not, one is refused with
 *   `missing_connect_session_token` naming the deprecation
 * @throws missing_connect_session_token when none is given, invalid_connect_session_token, unknown_account,
 *   invalid_query_params when `connection_id` comes with a session token
 */
export async function resolveCaller(
  req: Request,
  deps: { sessions: ConnectSessionService; store: Store },
  options: { publicKey: boolean },
): Promise<Caller> {
  const header = req.headers.authorization;
  const bearer = header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  const q = req.query as Record<string, unknown>;
  const token = bearer?.startsWith(CONNECT_SESSION_PREFIX) ? bearer : queryString(q.connect_session_token);
  if (token) {
    if (q.connection_id !== undefined) {
      throw new FerryError(
        'invalid_query_params',
        'connection_id cannot be given with a connect session token; use a reconnect session.',
        { errors: [{ path: 'connection_id', message: 'not allowed with a connect session token' }] },
      );
    }
    const session = await deps.sessions.resolve(token);
    const row = await deps.store.db
      .selectFrom('connect_sessions')
      .select('end_user_id')
      .where('id', '=', session.id)
      .executeTakeFirst();
    return {
      kind: 'session',
      environmentId: session.environmentId,
      session,
      endUserRowId: row?.end_user_id ?? null,
    };
  }
  const publicKey = queryString(q.public_key);
  if (publicKey && !options.publicKey) {
    throw new FerryError(
      'missing_connect_session_token',
      'A connect session token is required here (Authorization: Bearer <token>); public_key is deprecated and not accepted on this route.',
    );
  }
  if (publicKey) {
    const env = await deps.store.db
      .selectFrom('environments')
      .select('id')
      .where('public_key', '=', publicKey)
      .executeTakeFirst();
    if (!env) throw new FerryError('unknown_account', 'The public key is not valid.');
    const connectionId = queryString(q.connection_id);
    if (connectionId && (connectionId.length > 255 || !/^[\w.@:+-]+$/.test(connectionId))) {
      throw new FerryError('invalid_query_params', 'connection_id is not valid.', {
        errors: [{ path: 'connection_id', message: 'letters, digits and . _ - @ : + only, at most 255' }],
      });
    }
    return { kind: 'public_key', environmentId: env.id, connectionId: connectionId ?? null };
  }
  throw new FerryError(
    'missing_connect_session_token',
    'A connect session token is required (Authorization: Bearer <token> or ?connect_session_token=).',
  );
}

/**
 * Checks that the caller may connect `providerConfigKey` and merges the session's
 * `integrations_config_defaults` with what the browser asked for (the session's defaults win for connection
 * config, since the backend set them; scopes add up).
 * @throws integration_not_allowed
 */
export function flowContextFor(caller: Caller, providerConfigKey: string, request: FlowRequest): FlowContext {
  const requested = {
    connectionConfig: request.params ?? {},
    userScopes: request.userScopes ?? [],
    authorizationParams: request.authorizationParams ?? {},
  };
  if (caller.kind === 'public_key') {
    return {
      connectSessionId: null,
      endUserRowId: null,
      tags: {},
      reconnectConnectionRowId: null,
      connectionId: caller.connectionId,
      ...requested,
      scopesOverride: scopesOverrideOf(requested.connectionConfig),
    };
  }
  const { session } = caller;
  if (session.allowedIntegrations && !session.allowedIntegrations.includes(providerConfigKey)) {
    throw new FerryError(
      'integration_not_allowed',
      `This connect session may not connect integration "${providerConfigKey}".`,
    );
  }
  const defaults = session.integrationsConfigDefaults?.[providerConfigKey];
  const connectionConfig = { ...requested.connectionConfig, ...(defaults?.connection_config ?? {}) };
  return {
    connectSessionId: session.id,
    endUserRowId: caller.endUserRowId,
    tags: session.tags,
    reconnectConnectionRowId: session.reconnectConnectionId,
    connectionId: null,
    connectionConfig,
    userScopes: [...splitScopes(defaults?.user_scopes), ...requested.userScopes],
    authorizationParams: { ...requested.authorizationParams, ...(defaults?.authorization_params ?? {}) },
    // Only the backend (the session's defaults) may replace the integration's scopes, never the browser.
    scopesOverride: scopesOverrideOf(defaults?.connection_config ?? {}),
  };
}

/** Splits a comma- or space-separated scope list. */
export function splitScopes(value: string | null | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function scopesOverrideOf(config: Record<string, unknown>): string[] | null {
  const v = config.oauth_scopes_override;
  return typeof v === 'string' ? splitScopes(v) : null;
}
