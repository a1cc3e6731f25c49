import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { ActivityLogService } from '../../logs/service.js';
import { envOf } from '../context.js';
import { parse } from '../validate.js';
import { limit } from '../schemas.js';
import type { AuthKind } from '../auth.js';

const listQuery = z.strictObject({
  limit: limit(500, 100),
  cursor: z.string().max(1000).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  kind: z.enum(['auth', 'proxy', 'sync', 'action', 'webhook', 'deploy', 'admin']).optional(),
  status: z.enum(['running', 'success', 'failed', 'cancelled']).optional(),
  connection_id: z.string().max(255).optional(),
  integration: z.string().max(255).optional(),
});
const idParams = z.object({ operationId: z.uuid() });
const messagesQuery = z.strictObject({ limit: limit(1000, 100), cursor: z.string().max(1000).optional() });

/** The activity log routes. */
export function logsRouter(deps: {
  logs: ActivityLogService;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const { logs, auth } = deps;
  const router = Router();
  router.get('/logs/operations', auth.secret, async (req, res) => {
    const q = parse(listQuery, req.query, 'invalid_query_params');
    res.json(await logs.listOperations(envOf(res), { ...q, connectionId: q.connection_id }));
  });
  router.get('/logs/operations/:operationId', auth.secret, async (req, res) => {
    const { operationId: id } = parse(idParams, req.params, 'invalid_uri_params');
    res.json({ data: await logs.getOperation(envOf(res), id) });
  });
  router.get('/logs/operations/:operationId/messages', auth.secret, async (req, res) => {
    const { operationId: id } = parse(idParams, req.params, 'invalid_uri_params');
    const q = parse(messagesQuery, req.query, 'invalid_query_params');
    res.json(await logs.listMessages(envOf(res), id, q));
  });
  return router;
}
