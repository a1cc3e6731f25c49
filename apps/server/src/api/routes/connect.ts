import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { ConnectSessionService } from '../../connect/service.js';
import { envOf, sessionOf } from '../context.js';
import { parse } from '../validate.js';
import { connectionId, endUser, jsonObject, organization, tags, uniqueKey } from '../schemas.js';
import type { AuthKind } from '../auth.js';

const defaults = z.record(
  uniqueKey,
  z.object({
    user_scopes: z.string().max(4096).optional(),
    authorization_params: z.record(z.string().max(255), z.string().max(4096)).optional(),
    connection_config: jsonObject.optional(),
  }),
);

const createBody = z
  .object({
    end_user: endUser.optional(),
    organization: organization.optional(),
    allowed_integrations: z.array(uniqueKey).max(1000).optional(),
    integrations_config_defaults: defaults.optional(),
    tags: tags.optional(),
    overrides: jsonObject.optional(),
    webhook_url_override: z.url().max(2048).optional(),
  })
  .refine((b) => b.end_user !== undefined || b.tags !== undefined, {
    message: 'end_user is required (or tags)',
    path: ['end_user'],
  });

const reconnectBody = z.object({
  connection_id: connectionId,
  integration_id: uniqueKey,
  end_user: endUser.optional(),
  organization: organization.optional(),
  integrations_config_defaults: defaults.optional(),
  tags: tags.optional(),
  overrides: jsonObject.optional(),
  webhook_url_override: z.url().max(2048).optional(),
});

/** The connect session routes. */
export function connectRouter(deps: {
  sessions: ConnectSessionService;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const { sessions, auth } = deps;
  const router = Router();

  router.post('/connect/sessions', auth.secret, async (req, res) => {
    const body = parse(createBody, req.body, 'invalid_body');
    res.status(201).json({ data: await sessions.create(envOf(res).id, body) });
  });

  router.post('/connect/sessions/reconnect', auth.secret, async (req, res) => {
    const body = parse(reconnectBody, req.body, 'invalid_body');
    res.status(201).json({ data: await sessions.createReconnect(envOf(res).id, body) });
  });

  router.get('/connect/session', auth.session, (_req, res) => {
    res.json({ data: sessions.toApi(sessionOf(res)) });
  });

  router.delete('/connect/session', auth.session, async (_req, res) => {
    await sessions.delete(sessionOf(res).id);
    res.status(204).end();
  });
  return router;
}
