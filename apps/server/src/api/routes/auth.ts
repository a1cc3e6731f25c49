import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { handleCallback } from '../../auth/callback.js';
import { resolveCaller, type FlowRequest } from '../../auth/caller.js';
import { sendCallbackPage } from '../../auth/callbackPage.js';
import { exactOrigin, originOfReferer } from '../../auth/origin.js';
import type { AuthService, DirectCredentials } from '../../auth/service.js';
import { OAUTH_SESSION_TTL_MS } from '../../auth/oauthSessions.js';
import { setStateCookie } from '../../auth/stateCookie.js';
import type { ConnectSessionService } from '../../connect/service.js';
import { FerryError, toFerryError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import { jsonObject, uniqueKey } from '../schemas.js';
import { checkRequestInput, parse } from '../validate.js';

const scopes = z.array(z.string().min(1).max(512)).max(100);
const authorizationParams = z.record(z.string().min(1).max(255), z.string().max(4096).nullable());

const flowBody = z.object({
  provider_config_key: uniqueKey,
  params: jsonObject.optional(),
  user_scopes: scopes.optional(),
  authorization_params: authorizationParams.optional(),
});

const common = { connection_config: jsonObject.optional() };
const apiKeyBody = z.object({ apiKey: z.string().min(1).max(16384), ...common });
const basicBody = z.object({ username: z.string().max(4096), password: z.string().max(16384), ...common });
const noneBody = z.object(common);
const ccBody = z.object({
  client_id: z.string().min(1).max(4096).optional(),
  client_secret: z.string().max(16384).optional(),
  ...common,
});

const keyParam = z.object({ providerConfigKey: uniqueKey });
const waitQuery = z.object({ wait: z.coerce.number().int().min(0).max(30).default(25) });

/** `params[x]=…` of the query string (Nango's connection-config parameters). */
function queryParams(req: Request): Record<string, unknown> {
  const p = (req.query as Record<string, unknown>).params;
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** What the auth routes need. */
export interface AuthRouterDeps {
  auth: AuthService;
  sessions: ConnectSessionService;
  store: Store;
  logger: Logger;
}

/**
 * The pages the popup opens: the redirect to the provider and the provider's callbacks. They answer errors as
 * HTML pages that post to the opener, so they run the request input checks themselves.
 */
export function authPagesRouter(deps: AuthRouterDeps): Router {
  const { auth } = deps;
  const router = Router();
  // The deprecated public key is accepted here, as in Nango (`GET /oauth/connect/:key`).
  const caller = (req: Request) => resolveCaller(req, deps, { publicKey: true });

  router.get('/oauth/connect/:providerConfigKey', async (req, res) => {
    let flowId: string | undefined;
    try {
      checkRequestInput(req);
      const { providerConfigKey } = parse(keyParam, req.params, 'invalid_uri_params');
      const q = req.query as Record<string, unknown>;
      flowId = typeof q.flow_id === 'string' ? q.flow_id : undefined;
      if (!flowId) {
        // Called directly (Nango style): make the flow here; the opener's origin comes from the Referer.
        const request: FlowRequest = {
          params: queryParams(req),
          userScopes: typeof q.user_scope === 'string' ? q.user_scope.split(',').filter(Boolean) : [],
          authorizationParams: parse(
            authorizationParams.optional(),
            q.authorization_params,
            'invalid_query_params',
          ),
        };
        const origin = originOfReferer(req.headers.referer) ?? null;
        flowId = (await auth.createFlow(await caller(req), providerConfigKey, request, origin)).flow_id;
      }
      const url = await auth.start(flowId, providerConfigKey, (state) =>
        setStateCookie(res, state, { secure: auth.secureCookies, maxAgeMs: OAUTH_SESSION_TTL_MS }),
      );
      res.setHeader('cache-control', 'no-store');
      res.setHeader('referrer-policy', 'no-referrer');
      res.redirect(302, url);
    } catch (err) {
      const e = toFerryError(err);
      if (e.code === 'server_error') deps.logger.error({ err }, 'oauth connect failed');
      const flow = flowId ? await auth.flows.get(flowId) : undefined;
      sendCallbackPage(
        res,
        { type: 'ferry_auth_error', flowId: flow?.id ?? '', code: e.code, message: e.message },
        flow?.origin ?? null,
        e.status,
      );
    }
  });

  const callback = async (req: Request, res: Response) => {
    try {
      checkRequestInput(req);
    } catch (err) {
      const e = toFerryError(err);
      sendCallbackPage(res, { type: 'ferry_auth_error', flowId: '', code: e.code, message: e.message }, null);
      return;
    }
    await handleCallback(auth, req, res, deps.logger);
  };
  router.get('/oauth/callback', callback);
  router.get('/app-auth/connect', callback);

  return router;
}

/** The auth routes: popup flows and their long-poll, and the credential forms. */
export function authRouter(deps: AuthRouterDeps): Router {
  const { auth } = deps;
  const router = Router();
  // Where the deprecated public key is still accepted: as in Nango, on `GET /oauth/connect/:key` and on the
  // credential forms (`/api-auth/*`, `/oauth2/auth/*`, `/auth/unauthenticated/*`). `POST /oauth/flows` is Ferry's
  // own route for `@ferry/frontend`, which only has connect session tokens, so it takes nothing else.
  const caller = (req: Request) => resolveCaller(req, deps, { publicKey: true });
  const sessionCaller = (req: Request) => resolveCaller(req, deps, { publicKey: false });

  router.post('/oauth/flows', async (req, res) => {
    const body = parse(flowBody, req.body, 'invalid_body');
    const who = await sessionCaller(req);
    const request: FlowRequest = {
      params: body.params,
      userScopes: body.user_scopes,
      authorizationParams: body.authorization_params,
    };
    const origin = exactOrigin(req.headers.origin) ?? null;
    res.status(201).json({ data: await auth.createFlow(who, body.provider_config_key, request, origin) });
  });

  router.get('/oauth/flows/:flowId', async (req, res) => {
    const { wait } = parse(waitQuery, req.query, 'invalid_query_params');
    const secret = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!secret) throw new FerryError('missing_auth_header', 'Send "Authorization: Bearer <flow secret>".');
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const result = await auth.waitResult(req.params.flowId, secret, wait * 1000, abort.signal);
    if (!result) throw new FerryError('not_found', 'No such auth flow, or a wrong flow secret.');
    res.json({ data: result });
  });

  const direct =
    <S extends z.ZodType<{ connection_config?: Record<string, unknown> | undefined }>>(
      schema: S,
      toCredentials: (body: z.infer<S>) => DirectCredentials,
    ) =>
    async (req: Request, res: Response) => {
      const { providerConfigKey } = parse(keyParam, req.params, 'invalid_uri_params');
      const body = parse(schema, req.body ?? {}, 'invalid_body');
      const who = await caller(req);
      const config = (body as { connection_config?: Record<string, unknown> }).connection_config;
      const params = { ...queryParams(req), ...(config ?? {}) };
      res.json(await auth.createDirect(who, providerConfigKey, toCredentials(body), { params }));
    };
  router.post(
    '/api-auth/api-key/:providerConfigKey',
    direct(apiKeyBody, (b: z.infer<typeof apiKeyBody>) => ({ type: 'API_KEY', apiKey: b.apiKey })),
  );
  router.post(
    '/api-auth/basic/:providerConfigKey',
    direct(basicBody, (b: z.infer<typeof basicBody>) => ({
      type: 'BASIC',
      username: b.username,
      password: b.password,
    })),
  );
  router.post(
    '/auth/unauthenticated/:providerConfigKey',
    direct(noneBody, () => ({ type: 'NONE' })),
  );
  router.post(
    '/oauth2/auth/:providerConfigKey',
    direct(ccBody, (b: z.infer<typeof ccBody>) => ({
      type: 'OAUTH2_CC',
      client_id: b.client_id,
      client_secret: b.client_secret,
    })),
  );
  return router;
}
