import type { Request, Response } from 'express';
import type { StoredCredentials } from '../connections/credentials.js';
import { checkInputValue, MAX_JSON_DEPTH } from '../api/validate.js';
import { checkInterpolatedValues } from '../connections/configCheck.js';
import { toFerryError } from '../errors.js';
import type { Logger } from '../logger.js';
import { sendCallbackPage, type CallbackMessage } from './callbackPage.js';
import type { Flow } from './flows.js';
import { mintCredentials } from './mint.js';
import { exchangeCode } from './oauth2.js';
import { oauth1AccessToken } from './oauth1.js';
import { providerError } from './providerErrors.js';
import type { AuthService } from './service.js';
import { clearStateCookie, stateCookieMatches } from './stateCookie.js';

/** A callback failure with the code the SDK receives. */
class CallbackError extends Error {
  override readonly name = 'CallbackError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the SDK is told when a callback fails; unexpected errors are not described. */
function toFailure(err: unknown): { code: string; message: string } {
  if (err instanceof CallbackError) return { code: err.code, message: err.message };
  if ((err as { name?: unknown }).name === 'TokenEndpointError') {
    return { code: 'token_err', message: `The provider did not issue a token: ${(err as Error).message}` };
  }
  const e = toFerryError(err);
  return e.code === 'server_error'
    ? { code: 'unknown_error', message: 'An unexpected error occurred.' }
    : { code: e.code, message: e.message };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Handles `GET /oauth/callback` (and the GitHub App setup URL): takes the single-use state (a replay finds
 * nothing), checks the state cookie, trades the code (OAuth 2), verifier (OAuth 1) or installation id (APP) for
 * credentials, stores the connection, records the flow's outcome for the long-poll, and sends the page that posts
 * the outcome to the opener's exact origin.
 */
export async function handleCallback(
  auth: AuthService,
  req: Request,
  res: Response,
  logger: Logger,
): Promise<void> {
  const q = req.query as Record<string, unknown>;
  const state = str(q.state);
  const session = state ? await auth.oauthSessions.take(state) : undefined;
  if (!state || !session) {
    sendCallbackPage(
      res,
      {
        type: 'ferry_auth_error',
        flowId: '',
        code: 'state_err',
        message: 'This sign-in link is invalid, expired or was already used. Start again.',
      },
      null,
    );
    return;
  }
  clearStateCookie(res, state, auth.secureCookies);
  const flow = await auth.flows.get(session.flowId);
  if (!flow) {
    sendCallbackPage(
      res,
      {
        type: 'ferry_auth_error',
        flowId: '',
        code: 'state_err',
        message: 'This sign-in has expired. Start again.',
      },
      null,
    );
    return;
  }
  let message: CallbackMessage;
  try {
    if (!stateCookieMatches(req, state, session.cookieHash)) {
      throw new CallbackError(
        'state_err',
        'The sign-in was not started in this browser (its state cookie is missing or wrong).',
      );
    }
    const error = str(q.error);
    if (error) {
      const mapped = providerError(error, str(q.error_description));
      throw new CallbackError(mapped.code, mapped.message);
    }
    const connectionId = await complete(auth, flow, session, q);
    message = {
      type: 'ferry_auth_success',
      flowId: flow.id,
      providerConfigKey: flow.providerConfigKey,
      connectionId,
    };
    await auth.finish(flow.id, { status: 'success', connection_id: connectionId });
  } catch (err) {
    const failure = toFailure(err);
    if (failure.code === 'unknown_error') logger.error({ err }, 'oauth callback failed');
    message = { type: 'ferry_auth_error', flowId: flow.id, ...failure };
    await auth.finish(flow.id, { status: 'error', error: failure });
    const found = await auth.integration(flow.environmentId, flow.providerConfigKey).catch(() => undefined);
    if (found) {
      await auth.writer.recordEvent({
        environmentId: flow.environmentId,
        integration: found.integration,
        authMode: session.authMode,
        connectionId: flow.context.connectionId ?? '',
        operation: 'failure',
        endUserRowId: flow.context.endUserRowId,
        error: failure,
      });
    }
  }
  sendCallbackPage(res, message, flow.origin);
}

async function complete(
  auth: AuthService,
  flow: Flow,
  session: {
    authMode: string;
    secrets: { codeVerifier?: string; requestTokenSecret?: string; redirectUri: string };
  },
  q: Record<string, unknown>,
): Promise<string> {
  const { integration, provider } = await auth.integration(flow.environmentId, flow.providerConfigKey);
  const c = integration.credentials;
  const config: Record<string, unknown> = { ...flow.context.connectionConfig };
  for (const name of provider.redirect_uri_metadata ?? []) {
    const v = str(q[name]);
    if (v !== undefined) config[name] = v;
  }
  checkInterpolatedValues(provider, { connectionConfig: { value: config, field: 'connection_config' } });
  let credentials: StoredCredentials;
  if (session.authMode === 'APP') {
    if (!str(q.installation_id))
      throw new CallbackError('callback_err', 'The provider sent no installation_id.');
    config.installation_id = str(q.installation_id);
    credentials = await mintCredentials({
      http: auth.http,
      provider,
      integrationCredentials: c,
      connectionConfig: config,
    });
  } else if (session.authMode === 'OAUTH1') {
    const token = str(q.oauth_token);
    const verifier = str(q.oauth_verifier);
    if (!token || !verifier || !c || c.type === 'APP' || !session.secrets.requestTokenSecret) {
      throw new CallbackError('callback_err', 'The provider sent no oauth_token and oauth_verifier.');
    }
    credentials = await oauth1AccessToken({
      http: auth.http,
      provider,
      consumerKey: c.client_id,
      consumerSecret: c.client_secret,
      oauthToken: token,
      requestTokenSecret: session.secrets.requestTokenSecret,
      verifier,
      connectionConfig: config,
    });
  } else {
    const code = str(q[provider.authorization_code_param_in_callback ?? 'code']);
    if (!code) throw new CallbackError('callback_err', 'The provider sent no authorization code.');
    if (!c || c.type === 'APP')
      throw new CallbackError('missing_client_credentials', 'The integration has no client id and secret.');
    const exchanged = await exchangeCode({
      http: auth.http,
      provider,
      clientId: c.client_id,
      clientSecret: c.client_secret,
      code,
      redirectUri: session.secrets.redirectUri,
      codeVerifier: session.secrets.codeVerifier,
      connectionConfig: config,
    });
    Object.assign(config, exchanged.metadata);
    credentials = exchanged.credentials;
  }
  // The token response's metadata joins the config: the same limits as a request body before it is stored.
  checkInputValue(config, { code: 'invalid_body', maxDepth: MAX_JSON_DEPTH });
  checkInterpolatedValues(provider, {
    connectionConfig: { value: config, field: 'connection_config' },
    credentials: { value: credentials, field: 'credentials' },
  });
  const saved = await auth.writer.save({
    environmentId: flow.environmentId,
    integration,
    authMode: session.authMode,
    credentials,
    connectionConfig: config,
    context: flow.context,
  });
  return saved.connectionId;
}
