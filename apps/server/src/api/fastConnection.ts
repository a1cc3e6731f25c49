import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionService } from '../connections/service.js';
import type { EnvironmentRegistry } from '../environments/service.js';
import type { Logger } from '../logger.js';
import type { ResponseObserver } from './app.js';
import { createFastGet, type FastRoute } from './fastGet.js';
import { oneParams, oneQuery } from './routes/connections.js';
import { parse } from './validate.js';

const PATH = /^\/(connections?)\/([^/]+)$/;

/**
 * `GET /connections/:connectionId` without express: the credential read is the API's hottest route (every backend
 * fetches tokens through it). Answered by {@link createFastGet} with the same schemas and service as the express
 * route; a path that does not decode, or the metadata route, is left to express.
 */
export function createConnectionFastPath(deps: {
  connections: ConnectionService;
  environments: EnvironmentRegistry;
  logger: Logger;
  observe?: ResponseObserver | undefined;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const routeOf = (route: string, id: string): FastRoute => ({
    route,
    answer: async (env, rawQuery) => {
      const { connectionId } = parse(oneParams, { connectionId: id }, 'invalid_uri_params');
      const query = parse(oneQuery, rawQuery, 'invalid_query_params');
      const connection = await deps.connections.get(env.id, connectionId, query.provider_config_key, {
        refreshToken: query.refresh_token ?? false,
        forceRefresh: query.force_refresh ?? false,
      });
      return { json: JSON.stringify(connection), body: connection };
    },
  });
  return createFastGet(deps, (path) => {
    const m = PATH.exec(path);
    if (!m?.[2] || m[2] === 'metadata') return undefined;
    let id: string;
    try {
      id = decodeURIComponent(m[2]);
    } catch {
      return undefined;
    }
    // `/connection/:id` is the deprecated singular path `nango dryrun` still calls.
    return routeOf(m[1] === 'connection' ? '/connection/:connectionId' : '/connections/:connectionId', id);
  });
}
