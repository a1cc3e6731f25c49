import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { FerryError, toEnvelope, toFerryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { createAuth } from './auth.js';
import { cors } from './cors.js';
import type { JsonTextLocals } from './jsonText.js';
import { parseQuery } from './query.js';
import { requestIdOf } from './requestId.js';
import type { AuthLocals } from './context.js';
import { authPagesRouter, authRouter } from './routes/auth.js';
import { connectRouter } from './routes/connect.js';
import { connectionsRouter } from './routes/connections.js';
import { integrationsRouter } from './routes/integrations.js';
import { logsRouter } from './routes/logs.js';
import { providersRouter } from './routes/providers.js';
import { recordsRouter } from './routes/records.js';
import { deployBodyParser, scriptsRouter } from './routes/scripts.js';
import { checkRequestInput } from './validate.js';

/** Sees every JSON response the app sends (tests use it to check responses against the OpenAPI contract). */
export type ResponseObserver = (entry: {
  method: string;
  route: string | undefined;
  path: string;
  status: number;
  body: unknown;
}) => void;

export interface AppOptions {
  bodyLimit: string;
  logger: Logger;
  observeResponses?: ResponseObserver | undefined;
}

/** Builds the express app: request ids, JSON bodies, the API routes, and the error envelope everywhere. */
export function createApp(services: Services, options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', parseQuery);
  app.set('etag', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = requestIdOf(req.headers['x-request-id']);
    (res.locals as AuthLocals).requestId = id;
    res.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'debug';
      options.logger[level](
        {
          reqId: id,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(ms * 100) / 100,
        },
        'request',
      );
    });
    next();
  });

  if (options.observeResponses) {
    const observe = options.observeResponses;
    app.use((req: Request, res: Response, next: NextFunction) => {
      const json = res.json.bind(res);
      const seen = (body: unknown): void =>
        observe({
          method: req.method,
          route: (req.route as { path?: string } | undefined)?.path,
          path: req.path,
          status: res.statusCode,
          body,
        });
      res.json = (body: unknown) => {
        seen(body);
        return json(body);
      };
      (res.locals as JsonTextLocals).observeJsonText = (text) => seen(JSON.parse(text));
      next();
    });
  }

  // Before every route: decides which requests answer CORS, and refuses every other OPTIONS.
  app.use(cors);

  // The deploy routes read bundles with inline source maps: their own, larger limit, before the general one.
  app.use(deployBodyParser(services.environments));
  app.use(
    express.json({
      limit: options.bodyLimit,
      strict: true,
      type: ['application/json', 'application/*+json'],
    }),
  );

  const authDeps = {
    auth: services.auth,
    sessions: services.connectSessions,
    store: services.store,
    logger: options.logger,
  };
  // The popup's pages answer errors as HTML pages and check their input themselves, with the same function.
  app.use(authPagesRouter(authDeps));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    checkRequestInput(req);
    next();
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const auth = createAuth({ environments: services.environments, sessions: services.connectSessions });
  app.use(providersRouter({ providers: services.providers, auth }));
  app.use(integrationsRouter({ integrations: services.integrations, auth }));
  app.use(connectionsRouter({ connections: services.connections, auth }));
  app.use(connectRouter({ sessions: services.connectSessions, auth }));
  app.use(logsRouter({ logs: services.logs, auth }));
  app.use(recordsRouter({ records: services.records, auth }));
  app.use(scriptsRouter({ scripts: services.scripts, integrations: services.integrations, auth }));
  app.use(authRouter(authDeps));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new FerryError('not_found', `No route ${req.method} ${req.path}.`));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ferry = toFerryError(err);
    if (ferry.code === 'server_error') {
      options.logger.error(
        { err, reqId: (res.locals as AuthLocals).requestId, method: req.method, path: req.path },
        'unhandled error',
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(ferry.status).json(toEnvelope(ferry));
  });
  return app;
}
