import { Router } from 'express';
import type { ProviderCatalog } from '@ferry/providers';
import { z } from 'zod';
import { FerryError } from '../../errors.js';
import { parse } from '../validate.js';
import type { AuthKind } from '../auth.js';
import type { RequestHandler } from 'express';

const listQuery = z.strictObject({ search: z.string().max(255).optional() });

/** `GET /providers` and `GET /providers/:provider`. */
export function providersRouter(deps: {
  providers: ProviderCatalog;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const router = Router();
  router.get('/providers', deps.auth['secret-or-session'], (req, res) => {
    const { search } = parse(listQuery, req.query, 'invalid_query_params');
    const needle = search?.trim().toLowerCase();
    const data = deps.providers
      .list()
      .filter((p) => !needle || p.name.includes(needle) || p.display_name.toLowerCase().includes(needle));
    res.json({ data });
  });
  router.get('/providers/:provider', deps.auth['secret-or-session'], (req, res) => {
    const name = String(req.params.provider);
    const provider = deps.providers.get(name);
    if (!provider) throw new FerryError('not_found', `Provider "${name}" is not in the catalog.`);
    res.json({ data: { name, ...provider } });
  });
  return router;
}
