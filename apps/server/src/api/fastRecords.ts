import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnvironmentRegistry } from '../environments/service.js';
import type { Logger } from '../logger.js';
import type { RecordsService } from '../records/service.js';
import type { ResponseObserver } from './app.js';
import { createFastGet, type FastRoute } from './fastGet.js';
import { listRecordsText } from './routes/records.js';

/**
 * `GET /records` (and `/records/`) without express: a feed page is large (1,000 records are ~0.5 MB), and express's
 * `send` of a body that size cost as much as reading the page. Answered by {@link createFastGet} with the same
 * schemas and service as the express route.
 */
export function createRecordsFastPath(deps: {
  records: RecordsService;
  environments: EnvironmentRegistry;
  logger: Logger;
  observe?: ResponseObserver | undefined;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const route: FastRoute = {
    route: '/records',
    answer: async (env, query, headers) => ({
      json: await listRecordsText(deps.records, env.id, query, headers),
    }),
  };
  return createFastGet(deps, (path) => (path === '/records' || path === '/records/' ? route : undefined));
}
