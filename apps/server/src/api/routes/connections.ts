import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { importCredentialsSchema } from '../../connections/credentials.js';
import type { ConnectionService } from '../../connections/service.js';
import { envOf } from '../context.js';
import { MAX_FILTER_VALUES, parse } from '../validate.js';
import {
  connectionId,
  endUser,
  jsonObject,
  limit,
  organization,
  queryBool,
  tags,
  uniqueKey,
} from '../schemas.js';
import type { AuthKind } from '../auth.js';

const importBody = z.object({
  provider_config_key: uniqueKey,
  connection_id: connectionId.optional(),
  credentials: importCredentialsSchema,
  metadata: jsonObject.optional(),
  connection_config: jsonObject.optional(),
  end_user: endUser.optional(),
  organization: organization.optional(),
  tags: tags.optional(),
  webhook_url_override: z.url().max(2048).nullish(),
});

const listQuery = z.strictObject({
  connectionId: z.string().max(255).optional(),
  search: z.string().max(255).optional(),
  endUserId: z.string().max(255).optional(),
  endUserOrganizationId: z.string().max(255).optional(),
  integrationId: z
    .string()
    .max(4096)
    .refine(
      (v) => v.split(',').length <= MAX_FILTER_VALUES,
      `at most ${MAX_FILTER_VALUES} comma-separated values`,
    )
    .optional(),
  tags: z.record(z.string().max(64), z.string().max(255)).optional(),
  limit: limit(1000, 100),
  page: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const oneParams = z.object({ connectionId });
export const oneQuery = z.strictObject({
  provider_config_key: uniqueKey,
  force_refresh: queryBool.optional(),
  refresh_token: queryBool.optional(),
  refresh_github_app_jwt_token: queryBool.optional(),
});
const keyQuery = z.strictObject({ provider_config_key: uniqueKey });
const patchBody = z
  .object({
    end_user: endUser.optional(),
    tags: tags.optional(),
    webhook_url_override: z.url().max(2048).nullish(),
  })
  .refine(
    (b) => b.end_user !== undefined || b.tags !== undefined || b.webhook_url_override !== undefined,
    'at least one field must be given',
  );
const metadataBody = z.object({
  connection_id: z.union([connectionId, z.array(connectionId).min(1).max(100)]),
  provider_config_key: uniqueKey,
  metadata: jsonObject,
});

/** The connections routes. */
export function connectionsRouter(deps: {
  connections: ConnectionService;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const { connections, auth } = deps;
  const router = Router();

  router.post('/connections', auth.secret, async (req, res) => {
    const body = parse(importBody, req.body, 'invalid_body');
    const created = await connections.import(envOf(res).id, body);
    res.status(201).json(created);
  });

  router.get('/connections', auth.secret, async (req, res) => {
    const q = parse(listQuery, req.query, 'invalid_query_params');
    const list = await connections.list(envOf(res).id, {
      connectionId: q.connectionId,
      search: q.search,
      endUserId: q.endUserId,
      endUserOrganizationId: q.endUserOrganizationId,
      integrationIds: q.integrationId
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      tags: q.tags,
      limit: q.limit,
      page: q.page,
    });
    res.json({ connections: list });
  });

  const setMetadata =
    (merge: boolean): RequestHandler =>
    async (req, res) => {
      const body = parse(metadataBody, req.body, 'invalid_body');
      const ids = Array.isArray(body.connection_id) ? body.connection_id : [body.connection_id];
      await connections.setMetadata(envOf(res).id, ids, body.provider_config_key, body.metadata, merge);
      res.json(body);
    };
  router.post('/connections/metadata', auth.secret, setMetadata(false));
  router.patch('/connections/metadata', auth.secret, setMetadata(true));

  const getOne: RequestHandler = async (req, res) => {
    const { connectionId: id } = parse(oneParams, req.params, 'invalid_uri_params');
    const q = parse(oneQuery, req.query, 'invalid_query_params');
    const connection = await connections.get(envOf(res).id, id, q.provider_config_key, {
      refreshToken: q.refresh_token ?? false,
      forceRefresh: q.force_refresh ?? false,
    });
    res.json(connection);
  };
  router.get('/connections/:connectionId', auth.secret, getOne);
  // Deprecated singular path, still called by `nango dryrun` 0.71.10: answers like the plural one.
  router.get('/connection/:connectionId', auth.secret, getOne);

  router.patch('/connections/:connectionId', auth.secret, async (req, res) => {
    const { connectionId: id } = parse(oneParams, req.params, 'invalid_uri_params');
    const { provider_config_key } = parse(keyQuery, req.query, 'invalid_query_params');
    const body = parse(patchBody, req.body, 'invalid_body');
    await connections.patch(envOf(res).id, id, provider_config_key, body);
    res.json({ success: true });
  });

  router.delete('/connections/:connectionId', auth.secret, async (req, res) => {
    const { connectionId: id } = parse(oneParams, req.params, 'invalid_uri_params');
    const { provider_config_key } = parse(keyQuery, req.query, 'invalid_query_params');
    await connections.delete(envOf(res).id, id, provider_config_key);
    res.json({ success: true });
  });
  return router;
}
