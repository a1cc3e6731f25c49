import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { RecordAction } from '../../records/backend.js';
import type { RecordsService } from '../../records/service.js';
import { envOf } from '../context.js';
import { sendJsonText } from '../jsonText.js';
import { connectionId, limit, uniqueKey } from '../schemas.js';
import { parse } from '../validate.js';
import type { AuthKind } from '../auth.js';

const model = z.string().min(1).max(255);
const variant = z.string().min(1).max(255);
const isoDate = z
  .string()
  .max(64)
  .refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date')
  .transform((v) => new Date(v).toISOString());
const filter = z
  .string()
  .regex(
    /^(added|updated|deleted)(,(added|updated|deleted))?$/i,
    'must be added, updated, deleted or two of them joined by a comma',
  )
  .transform((v) => [...new Set(v.toUpperCase().split(','))] as RecordAction[]);
const ids = z
  .union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(100)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const listQuery = z.strictObject({
  model,
  variant: variant.optional(),
  cursor: z.string().min(1).max(1000).optional(),
  limit: limit(10_000, 100),
  modified_after: isoDate.optional(),
  delta: isoDate.optional(),
  filter: filter.optional(),
  ids: ids.optional(),
});

const pruneBody = z.strictObject({
  model,
  variant: variant.optional(),
  until_cursor: z.string().min(1).max(1000),
  limit: z.number().int().min(1).max(10_000).default(1000),
});

export const connectionHeaders = z.object({
  'connection-id': connectionId,
  'provider-config-key': uniqueKey,
});

async function connectionOf(records: RecordsService, req: Request, res: Response) {
  const h = parse(connectionHeaders, req.headers, 'invalid_headers');
  return records.connection(envOf(res).id, h['provider-config-key'], h['connection-id']);
}

/**
 * Answers `GET /records` for an environment: validates the query and headers, and returns the page's JSON text.
 * Shared by the express route and the fast path.
 * @throws FerryError `invalid_query_params`, `invalid_headers`, `unknown_provider_config`, `unknown_connection`,
 * `unknown_model`, `invalid_cursor`
 */
export async function listRecordsText(
  records: RecordsService,
  environmentId: number,
  query: unknown,
  headers: unknown,
): Promise<string> {
  const q = parse(listQuery, query, 'invalid_query_params');
  const h = parse(connectionHeaders, headers, 'invalid_headers');
  const ref = await records.connection(environmentId, h['provider-config-key'], h['connection-id']);
  return records.list(ref, {
    model: q.model,
    variant: q.variant,
    cursor: q.cursor,
    limit: q.limit,
    modifiedAfter: q.modified_after ?? q.delta,
    actions: q.filter,
    ids: q.ids,
  });
}

/** `GET /records` (and `/records/`, as the published SDK sends it) and `PATCH /records/prune`. */
export function recordsRouter(deps: {
  records: RecordsService;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const { records, auth } = deps;
  const router = Router();

  router.get('/records', auth.secret, async (req, res) => {
    sendJsonText(res, await listRecordsText(records, envOf(res).id, req.query, req.headers));
  });

  router.patch('/records/prune', auth.secret, async (req, res) => {
    const body = parse(pruneBody, req.body, 'invalid_body');
    const ref = await connectionOf(records, req, res);
    res.json(
      await records.prune(ref, {
        model: body.model,
        variant: body.variant,
        untilCursor: body.until_cursor,
        limit: body.limit,
      }),
    );
  });
  return router;
}
