import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Environment, EnvironmentRegistry } from '../environments/service.js';
import { toEnvelope, toFerryError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResponseObserver } from './app.js';
import { parseQuery } from './query.js';
import { requestIdOf } from './requestId.js';
import { checkRequestInput } from './validate.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** A 200 answer: its JSON text, and the value it encodes when the handler has it (else parsed for observers). */
export interface FastAnswer {
  json: string;
  body?: unknown;
}

/** A route answered before express: its contract path and what answers it. */
export interface FastRoute {
  route: string;
  answer(env: Environment, query: Record<string, unknown>, headers: IncomingHttpHeaders): Promise<FastAnswer>;
}

/**
 * A `GET` answered without express, for the hottest and largest reads. Plain requests (no body) from a known secret
 * key on a path `match` takes are answered with the same input checks, error envelope, request id, response
 * observer and request log as express; anything else returns false before writing, and express answers it.
 * @param match the route a path belongs to, or undefined when it is not one of these (or cannot be decoded)
 */
export function createFastGet(
  deps: { environments: EnvironmentRegistry; logger: Logger; observe?: ResponseObserver | undefined },
  match: (path: string) => FastRoute | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' || req.headers['content-length'] || req.headers['transfer-encoding'])
      return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = match(path);
    if (!route) return false;
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const env = token ? deps.environments.cachedBySecretKey(token.toLowerCase()) : undefined;
    if (!env) return false;
    const reqId = requestIdOf(req.headers['x-request-id']);
    const started = performance.now();
    const send = (status: number, json: string, body?: unknown): void => {
      if (deps.observe)
        deps.observe({ method: 'GET', route: route.route, path, status, body: body ?? JSON.parse(json) });
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
    const run = async (): Promise<FastAnswer> => {
      const query = q === -1 ? {} : parseQuery(url.slice(q + 1));
      // The checks express runs before every route (NUL, lone surrogates, values per parameter).
      checkRequestInput({ path, query });
      return route.answer(env, query, req.headers);
    };
    run().then(
      (answer) => send(200, answer.json, answer.body),
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
