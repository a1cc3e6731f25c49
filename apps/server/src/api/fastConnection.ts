import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionService } from '../connections/service.js';
import type { EnvironmentRegistry } from '../environments/service.js';
import { toEnvelope, toFerryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResponseObserver } from './app.js';
import { parseQuery } from './query.js';
import { requestIdOf } from './requestId.js';
import { oneParams, oneQuery } from './routes/connections.js';
import { checkRequestInput, parse } from './validate.js';

const PATH = /^\/(connections?)\/([^/]+)$/;
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * `GET /connections/:connectionId` without express: the credential read is the API's hottest route (every backend
 * fetches tokens through it), so plain requests from a known secret key are answered here with the same schemas,
 * service and error envelope as the express route. Anything else — an unknown or session token, a body, a path
 * that does not decode — returns false before writing, and express answers it.
 */
export function createConnectionFastPath(deps: {
  connections: ConnectionService;
  environments: EnvironmentRegistry;
  logger: Logger;
  observe?: ResponseObserver | undefined;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' || req.headers['content-length'] || req.headers['transfer-encoding'])
      return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const m = PATH.exec(path);
    if (!m?.[2] || m[2] === 'metadata') return false;
    // `/connection/:id` is the deprecated singular path `nango dryrun` still calls.
    const route = m[1] === 'connection' ? '/connection/:connectionId' : '/connections/:connectionId';
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const env = token ? deps.environments.cachedBySecretKey(token.toLowerCase()) : undefined;
    if (!env) return false;
    let id: string;
    try {
      id = decodeURIComponent(m[2]);
    } catch {
      return false;
    }
    const reqId = requestIdOf(req.headers['x-request-id']);
    const started = performance.now();
    const send = (status: number, body: unknown): void => {
      deps.observe?.({ method: 'GET', route, path, status, body });
      const json = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(json),
        'x-request-id': reqId,
      });
      res.end(json);
      const level = status >= 500 ? 'error' : 'debug';
      deps.logger[level](
        { reqId, method: 'GET', path, status, ms: Math.round((performance.now() - started) * 100) / 100 },
        'request',
      );
    };
    const run = async (): Promise<void> => {
      const rawQuery = q === -1 ? {} : parseQuery(url.slice(q + 1));
      checkRequestInput({ path, query: rawQuery });
      const { connectionId } = parse(oneParams, { connectionId: id }, 'invalid_uri_params');
      const query = parse(oneQuery, rawQuery, 'invalid_query_params');
      const connection = await deps.connections.get(env.id, connectionId, query.provider_config_key, {
        refreshToken: query.refresh_token ?? false,
        forceRefresh: query.force_refresh ?? false,
      });
      send(200, connection);
    };
    run().catch((err: unknown) => {
      const ferry = toFerryError(err);
      if (ferry.code === 'server_error') deps.logger.error({ err, reqId, path }, 'unhandled error');
      if (res.headersSent) res.destroy();
      else send(ferry.status, toEnvelope(ferry));
    });
    return true;
  };
}
