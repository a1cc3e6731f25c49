import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CONNECT_SESSION_PREFIX, type ConnectSessionService } from '../connect/service.js';
import type { EnvironmentRegistry } from '../environments/service.js';
import { FerryError } from '../errors.js';
import type { AuthLocals } from './context.js';

function bearer(req: Request): string {
  const header = req.headers.authorization;
  if (!header)
    throw new FerryError(
      'missing_auth_header',
      'Authentication required: send "Authorization: Bearer <secret key>".',
    );
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1])
    throw new FerryError('missing_auth_header', 'The Authorization header must be "Bearer <secret key>".');
  return match[1];
}

/** Which credentials a route accepts. */
export type AuthKind = 'secret' | 'session' | 'secret-or-session';

/** Builds the auth middlewares for the three kinds of route. */
export function createAuth(deps: {
  environments: EnvironmentRegistry;
  sessions: ConnectSessionService;
}): Record<AuthKind, RequestHandler> {
  const bySecret = async (token: string, res: Response): Promise<void> => {
    const env = await deps.environments.bySecretKey(token.toLowerCase());
    if (!env) throw new FerryError('unknown_account', 'The secret key is not valid.');
    (res.locals as AuthLocals).env = env;
  };
  const bySession = async (token: string, res: Response): Promise<void> => {
    const session = await deps.sessions.resolve(token);
    const env = await deps.environments.byId(session.environmentId);
    if (!env)
      throw new FerryError(
        'invalid_connect_session_token',
        'The connect session token is invalid or has expired.',
      );
    const locals = res.locals as AuthLocals;
    locals.env = env;
    locals.session = session;
  };
  const bySessionOnly = async (token: string, res: Response): Promise<void> => {
    if (!token.startsWith(CONNECT_SESSION_PREFIX))
      throw new FerryError('invalid_connect_session_token', 'A connect session token is required.');
    await bySession(token, res);
  };
  const wrap =
    (fn: (token: string, res: Response) => Promise<void>): RequestHandler =>
    (req: Request, res: Response, next: NextFunction) => {
      let token: string;
      try {
        token = bearer(req);
      } catch (err) {
        next(err);
        return;
      }
      // A known secret key resolves from memory: no promise hop on the hot path.
      const known = token.startsWith(CONNECT_SESSION_PREFIX)
        ? undefined
        : deps.environments.cachedBySecretKey(token.toLowerCase());
      if (known && fn !== bySessionOnly) {
        (res.locals as AuthLocals).env = known;
        next();
        return;
      }
      fn(token, res).then(() => next(), next);
    };
  return {
    secret: wrap(bySecret),
    session: wrap(bySessionOnly),
    'secret-or-session': wrap((token, res) =>
      token.startsWith(CONNECT_SESSION_PREFIX) ? bySession(token, res) : bySecret(token, res),
    ),
  };
}
