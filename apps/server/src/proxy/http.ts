import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { ResponseObserver } from '../api/app.js';
import { requestIdOf } from '../api/requestId.js';
import type { Environment, EnvironmentRegistry } from '../environments/service.js';
import { FerryError, toEnvelope, toFerryError } from '../errors.js';
import type { Logger } from '../logger.js';
import { RequestBody } from './body.js';
import type { ProxyEngine } from './engine.js';
import type { ResponseHead } from './types.js';
import { readControl, responseHeaders } from './headers.js';
import { decompressorFor } from './helpers.js';

/** Header on every proxied response: how many upstream attempts were made. */
export const ATTEMPTS_HEADER = 'x-ferry-proxy-attempts';
/** Header marking an error response that came from the provider (not from Ferry). */
export const UPSTREAM_ERROR_HEADER = 'x-ferry-upstream-error';

/** Whether a request URL belongs to the proxy (`/proxy`, `/proxy/…`, `/proxy?…`). */
export function isProxyPath(url: string): boolean {
  return url.startsWith('/proxy') && (url.length === 6 || url[6] === '/' || url[6] === '?');
}

function sinkFor(res: ServerResponse, requestId: string): (head: ResponseHead) => Writable {
  return (head) => {
    const encoding = head.headers['content-encoding'];
    const z = head.decompress && typeof encoding === 'string' ? decompressorFor(encoding) : undefined;
    const headers = responseHeaders(head.headers, z !== undefined);
    headers[ATTEMPTS_HEADER] = String(head.attempts);
    headers['x-request-id'] = requestId;
    if (head.status >= 400) headers[UPSTREAM_ERROR_HEADER] = 'true';
    res.writeHead(head.status, headers);
    if (!z) return res;
    z.on('error', () => res.destroy());
    // A client gone mid-answer stops the decompressor too (and through it the upstream request).
    res.on('close', () => {
      if (!res.writableFinished) z.destroy(new Error('the client closed the connection'));
    });
    z.pipe(res);
    return z;
  };
}

/**
 * Builds the `/proxy` request listener. It runs outside express (the hot path pays for no middleware):
 * authenticates the secret key, reads the control headers, streams the request to the engine and the
 * answer back. Ferry's own failures are sent in the error envelope with `x-ferry-proxy-attempts`.
 */
export function createProxyHandler(deps: {
  engine: ProxyEngine;
  environments: EnvironmentRegistry;
  logger: Logger;
  observe?: ResponseObserver | undefined;
}): (req: IncomingMessage, res: ServerResponse) => void {
  // Authorization headers already resolved to their environment (the registry hashes every key it is asked about).
  const keys = new Map<string, Environment>();
  const fail = (
    req: IncomingMessage,
    res: ServerResponse,
    err: unknown,
    path: string,
    requestId: string,
  ): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const ferry = toFerryError(err);
    if (ferry.code === 'server_error') deps.logger.error({ err, method: req.method, path }, 'proxy failed');
    const envelope = toEnvelope(ferry);
    const body = JSON.stringify(envelope);
    const attempts = (err as { attempts?: unknown }).attempts;
    res.writeHead(ferry.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-request-id': requestId,
      ...(typeof attempts === 'number' ? { [ATTEMPTS_HEADER]: String(attempts) } : {}),
    });
    res.end(body);
    if (req.method !== 'HEAD')
      deps.observe?.({
        method: req.method ?? 'GET',
        route: '/proxy/{path}',
        path,
        status: ferry.status,
        body: envelope,
      });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/proxy';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const requestId = requestIdOf(req.headers['x-request-id']);
    try {
      const authorization = req.headers.authorization ?? '';
      let env = keys.get(authorization);
      if (!env) {
        const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
        if (!token)
          throw new FerryError(
            'missing_auth_header',
            'Authentication required: send "Authorization: Bearer <secret key>".',
          );
        env = await deps.environments.bySecretKey(token.toLowerCase());
        if (!env) throw new FerryError('unknown_account', 'The secret key is not valid.');
        if (keys.size >= 64) keys.clear();
        keys.set(authorization, env);
      }
      const control = readControl(req.headers);
      const length = req.headers['content-length'];
      const hasBody =
        (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
      await deps.engine.forward(
        {
          environmentId: env.id,
          connectionId: control.connectionId,
          providerConfigKey: control.providerConfigKey,
          method: req.method ?? 'GET',
          endpoint: path.slice('/proxy'.length) || '/',
          query: q === -1 ? undefined : url.slice(q + 1),
          headers: control.headers,
          body: new RequestBody(hasBody ? req : null, length === undefined ? undefined : Number(length)),
          retries: control.retries,
          retryOn: control.retryOn,
          baseUrlOverride: control.baseUrlOverride,
          decompress: control.decompress,
          forwardHeadersOnRedirect: control.forwardHeadersOnRedirect,
          gone: () => res.destroyed,
        },
        sinkFor(res, requestId),
      );
    } catch (err) {
      fail(req, res, err, path, requestId);
    }
  };
  return (req, res) => {
    void handle(req, res);
  };
}
