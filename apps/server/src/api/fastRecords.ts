import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnvironmentRegistry } from '../environments/service.js';
import { toEnvelope, toFerryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RecordsService } from '../records/service.js';
import type { ResponseObserver } from './app.js';
import { parseQuery } from './query.js';
import { requestIdOf } from './requestId.js';
import { listRecordsText } from './routes/records.js';
import { checkRequestInput } from './validate.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const ROUTE = '/records';

/**
 * `GET /records` (and `/records/`) without express: a feed page is large (1,000 records are ~0.5 MB), and express's
 * `send` of a body that size cost as much as reading the page. Plain requests from a known secret key are answered
 * here with the same schemas, service and error envelope as the express route; anything else (an unknown key, a
 * body) returns false before writing, and express answers it.
 */
export function createRecordsFastPath(deps: {
  records: RecordsService;
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
    if (path !== '/records' && path !== '/records/') return false;
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const env = token ? deps.environments.cachedBySecretKey(token.toLowerCase()) : undefined;
    if (!env) return false;
    const reqId = requestIdOf(req.headers['x-request-id']);
    const started = performance.now();
    const send = (status: number, json: string, body?: unknown): void => {
      if (deps.observe)
        deps.observe({ method: 'GET', route: ROUTE, path, status, body: body ?? JSON.parse(json) });
      // Encoded once, written as one Buffer.
      const bytes = Buffer.from(json);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': bytes.length,
        'x-request-id': reqId,
      });
      res.end(bytes);
      const level = status >= 500 ? 'error' : 'debug';
      deps.logger[level](
        { reqId, method: 'GET', path, status, ms: Math.round((performance.now() - started) * 100) / 100 },
        'request',
      );
    };
    const run = async (): Promise<string> => {
      const query = q === -1 ? {} : parseQuery(url.slice(q + 1));
      // The checks express runs before every route (NUL, lone surrogates, values per parameter).
      checkRequestInput({ path, query });
      return listRecordsText(deps.records, env.id, query, req.headers);
    };
    run().then(
      (text) => send(200, text),
      (err: unknown) => {
        const ferry = toFerryError(err);
        if (ferry.code === 'server_error') deps.logger.error({ err, reqId, path }, 'unhandled error');
        if (res.headersSent) res.destroy();
        else {
          const envelope = toEnvelope(ferry);
          send(ferry.status, JSON.stringify(envelope), envelope);
        }
      },
    );
    return true;
  };
}
