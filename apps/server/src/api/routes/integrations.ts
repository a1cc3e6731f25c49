import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { IntegrationService } from '../../integrations/service.js';
import { envOf, sessionOf, type AuthLocals } from '../context.js';
import { parse } from '../validate.js';
import { uniqueKey } from '../schemas.js';
import type { AuthKind } from '../auth.js';

const oauthCredentials = z.object({
  type: z.enum(['OAUTH2', 'OAUTH1']),
  client_id: z.string().min(1).max(1024),
  client_secret: z.string().min(1).max(4096),
  scopes: z.string().max(4096).nullish(),
  webhook_secret: z.string().max(1024).nullish(),
});
const appCredentials = z.object({
  type: z.literal('APP'),
  app_id: z.string().min(1).max(255),
  app_link: z.string().min(1).max(1024),
  private_key: z.string().min(1).max(16384),
});
const credentials = z.discriminatedUnion('type', [oauthCredentials, appCredentials]);

const baseUrlOverridePolicy = z.enum(['off', 'same-host', 'any']);

const createBody = z.object({
  provider: z.string().min(1).max(255),
  unique_key: uniqueKey,
  display_name: z.string().min(1).max(255).optional(),
  credentials: credentials.optional(),
  forward_webhooks: z.boolean().optional(),
  proxy_base_url_override: baseUrlOverridePolicy.nullable().optional(),
  integration_config: z.record(z.string(), z.unknown()).optional(),
  custom: z.record(z.string(), z.unknown()).optional(),
});
const patchBody = z
  .object({
    unique_key: uniqueKey.optional(),
    display_name: z.string().min(1).max(255).optional(),
    credentials: credentials.optional(),
    forward_webhooks: z.boolean().optional(),
    proxy_base_url_override: baseUrlOverridePolicy.nullable().optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'at least one field must be given');
const includeValue = z.enum(['webhook', 'credentials']);
const getQuery = z.strictObject({
  include: z.union([includeValue, z.array(includeValue).max(2)]).optional(),
});
const keyParams = z.object({ uniqueKey });

/** The integrations routes. */
export function integrationsRouter(deps: {
  integrations: IntegrationService;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const { integrations, auth } = deps;
  const router = Router();

  router.get('/integrations', auth['secret-or-session'], async (_req, res) => {
    const env = envOf(res);
    let list = await integrations.list(env.id);
    const session = (res.locals as AuthLocals).session;
    if (session) {
      const allowed = sessionOf(res).allowedIntegrations;
      if (allowed) list = list.filter((i) => allowed.includes(i.uniqueKey));
    }
    res.json({ data: list.map((i) => integrations.toApi(i, env)) });
  });

  router.post('/integrations', auth.secret, async (req, res) => {
    const env = envOf(res);
    const body = parse(createBody, req.body, 'invalid_body');
    const created = await integrations.create(env.id, body);
    res.status(200).json({ data: integrations.toApi(created, env) });
  });

  router.get('/integrations/:uniqueKey', auth.secret, async (req, res) => {
    const env = envOf(res);
    const { uniqueKey: key } = parse(keyParams, req.params, 'invalid_uri_params');
    const { include } = parse(getQuery, req.query, 'invalid_query_params');
    const wanted = new Set(include === undefined ? [] : Array.isArray(include) ? include : [include]);
    const integration = await integrations.get(env.id, key);
    res.json({
      data: integrations.toApi(integration, env, {
        webhook: wanted.has('webhook'),
        credentials: wanted.has('credentials'),
      }),
    });
  });

  router.patch('/integrations/:uniqueKey', auth.secret, async (req, res) => {
    const env = envOf(res);
    const { uniqueKey: key } = parse(keyParams, req.params, 'invalid_uri_params');
    const body = parse(patchBody, req.body, 'invalid_body');
    const updated = await integrations.update(env.id, key, body);
    res.json({ data: integrations.toApi(updated, env) });
  });

  router.delete('/integrations/:uniqueKey', auth.secret, async (req, res) => {
    const env = envOf(res);
    const { uniqueKey: key } = parse(keyParams, req.params, 'invalid_uri_params');
    await integrations.delete(env.id, key);
    res.json({ success: true });
  });
  return router;
}
