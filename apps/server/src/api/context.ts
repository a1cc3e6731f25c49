import type { Response } from 'express';
import type { Environment } from '../environments/service.js';
import type { ConnectSession } from '../connect/service.js';
import { FerryError } from '../errors.js';

/** What the auth middleware leaves on `res.locals`. */
export interface AuthLocals {
  env?: Environment;
  session?: ConnectSession;
  requestId?: string;
}

/** The environment of an authenticated request. */
export function envOf(res: Response): Environment {
  const env = (res.locals as AuthLocals).env;
  if (!env) throw new FerryError('unknown_account', 'Authentication is required.');
  return env;
}

/** The connect session of a request authenticated by session token. */
export function sessionOf(res: Response): ConnectSession {
  const session = (res.locals as AuthLocals).session;
  if (!session) throw new FerryError('invalid_connect_session_token', 'A connect session token is required.');
  return session;
}
