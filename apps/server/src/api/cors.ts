import type { NextFunction, Request, Response } from 'express';
import { FerryError } from '../errors.js';

/** A route the browser SDK calls from another origin, and the request headers it sends there. */
export interface CorsRoute {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Exactly the non-safelisted headers `@ferry/frontend` sends (`packages/frontend/src/http.ts`). */
  headers: readonly string[];
}

const withBody = ['authorization', 'content-type'] as const;

/**
 * The only routes that answer CORS: those `@ferry/frontend` calls from the end user's page. They authenticate with
 * a bearer token (a connect session token or a flow secret), never with cookies, so any origin may call them.
 * Every other route answers `OPTIONS` with 404 `not_found`; the proxy (outside express) with 401 unless the
 * request carries a secret key — it never answers a preflight either.
 */
export const corsRoutes: readonly CorsRoute[] = [
  { method: 'POST', path: /^\/oauth\/flows\/?$/i, headers: withBody },
  { method: 'GET', path: /^\/oauth\/flows\/[^/]+\/?$/i, headers: ['authorization'] },
  { method: 'POST', path: /^\/api-auth\/(?:api-key|basic)\/[^/]+\/?$/i, headers: withBody },
  { method: 'POST', path: /^\/oauth2\/auth\/[^/]+\/?$/i, headers: withBody },
  { method: 'POST', path: /^\/auth\/unauthenticated\/[^/]+\/?$/i, headers: withBody },
];

/** The CORS route for a method and path, if that request may come from another origin. */
export function corsRouteFor(method: string, path: string): CorsRoute | undefined {
  return corsRoutes.find((r) => r.method === method.toUpperCase() && r.path.test(path));
}

/**
 * Express middleware, first in the app: answers the preflight of a {@link corsRoutes} request with 204 and the
 * exact `Access-Control-Allow-*` headers, adds `Access-Control-Allow-Origin: *` to those routes' responses (errors
 * included, so the SDK can read them), and refuses every other `OPTIONS` — before express's automatic `OPTIONS`
 * answer could reveal a route without authentication.
 * @throws not_found (to the error middleware) for an `OPTIONS` that is not a preflight of a CORS route
 */
export function cors(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'OPTIONS') {
    const asked = req.headers['access-control-request-method'];
    const route = typeof asked === 'string' ? corsRouteFor(asked, req.path) : undefined;
    if (!route) {
      next(new FerryError('not_found', `No route OPTIONS ${req.path}.`));
      return;
    }
    res
      .set({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': route.method,
        'access-control-allow-headers': route.headers.join(', '),
        'access-control-max-age': '600',
      })
      .status(204)
      .end();
    return;
  }
  if (corsRouteFor(req.method, req.path)) res.setHeader('access-control-allow-origin', '*');
  next();
}
