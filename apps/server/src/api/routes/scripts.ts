import express, {
  Router,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { z } from 'zod';
import type { EnvironmentRegistry } from '../../environments/service.js';
import { FerryError } from '../../errors.js';
import type { IntegrationService } from '../../integrations/service.js';
import { toOpenAiFunctions, toStandardConfig } from '../../scripts/config.js';
import type { ScriptRegistry } from '../../scripts/registry.js';
import { deployBody, rollbackBody, scriptName } from '../../scripts/schemas.js';
import type { AuthKind } from '../auth.js';
import { envOf } from '../context.js';
import { uniqueKey } from '../schemas.js';
import { parse } from '../validate.js';

/** The JSON body limit of the deploy routes, whatever `FERRY_BODY_LIMIT` says: bundles carry inline source maps. */
export const DEPLOY_BODY_LIMIT = '75mb';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const DEPLOY_PATHS =
  /^\/(?:sync\/deploy(?:\/confirmation)?|functions\/deployments\/bundle(?:\/preview)?)\/?$/i;

const bigJson = express.json({
  limit: DEPLOY_BODY_LIMIT,
  strict: true,
  type: ['application/json', 'application/*+json'],
});

/**
 * Parses the JSON body of the deploy routes with {@link DEPLOY_BODY_LIMIT}, for requests that carry a known secret
 * key only (no one else gets a 75 MB parse); mounted before the app's own parser, which then finds the body read
 * and leaves it, or applies the general limit to the others.
 */
export function deployBodyParser(environments: EnvironmentRegistry): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !DEPLOY_PATHS.test(req.path)) {
      next();
      return;
    }
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (!token) {
      next();
      return;
    }
    environments.bySecretKey(token.toLowerCase()).then((env) => {
      if (env) bigJson(req, res, next);
      else next();
    }, next);
  };
}

const configQuery = z.strictObject({ format: z.enum(['nango', 'openai']).default('nango') });
const codeParams = z.object({ uniqueKey, name: scriptName });
const codeQuery = z.strictObject({ type: z.enum(['sync', 'action', 'on-event']).optional() });

/** Deploy (`nango deploy`), the script registry's read-back routes, and the CLI's telemetry sink. */
export function scriptsRouter(deps: {
  scripts: ScriptRegistry;
  integrations: IntegrationService;
  auth: Record<AuthKind, RequestHandler>;
}): Router {
  const { scripts, integrations, auth } = deps;
  const router = Router();

  // The CLI posts usage events here before each command, without auth, and ignores the answer.
  router.post('/cli/telemetry', (_req, res) => {
    res.status(204).end();
  });

  router.post('/sync/deploy/confirmation', auth.secret, async (req, res) => {
    const body = parse(deployBody, req.body, 'invalid_body');
    res.json(await scripts.plan(envOf(res), body));
  });

  router.post('/sync/deploy', auth.secret, async (req, res) => {
    const body = parse(deployBody, req.body, 'invalid_body');
    res.json(await scripts.deploy(envOf(res), body));
  });

  const notSupported: RequestHandler = () => {
    throw new FerryError(
      'not_supported',
      'Ferry does not support the experimental createFunction scripts yet: deploy createSync / createAction / createOnEvent scripts.',
    );
  };
  router.post('/functions/deployments/bundle/preview', auth.secret, notSupported);
  router.post('/functions/deployments/bundle', auth.secret, notSupported);

  router.get('/scripts/config', auth.secret, async (req, res) => {
    const env = envOf(res);
    const { format } = parse(configQuery, req.query, 'invalid_query_params');
    const current = await scripts.listCurrent(env.id);
    if (format === 'openai') {
      res.json({ data: toOpenAiFunctions(current) });
      return;
    }
    const providers = new Map((await integrations.list(env.id)).map((i) => [i.uniqueKey, i.provider]));
    res.json(toStandardConfig(current, providers));
  });

  router.get('/integrations/:uniqueKey/functions/:name/code', auth.secret, async (req, res) => {
    const env = envOf(res);
    const { uniqueKey: key, name } = parse(codeParams, req.params, 'invalid_uri_params');
    const { type } = parse(codeQuery, req.query, 'invalid_query_params');
    res.json(await scripts.code(env.id, key, name, type));
  });

  router.post('/scripts/rollback', auth.secret, async (req, res) => {
    const body = parse(rollbackBody, req.body, 'invalid_body');
    const v = await scripts.rollback(envOf(res), body);
    res.json({
      data: {
        integration: v.integration,
        type: v.type,
        name: v.name,
        version: v.version,
        version_id: v.id,
        deployed_at: v.deployedAt,
      },
    });
  });
  return router;
}
