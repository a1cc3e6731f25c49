import { AuthError, AuthErrorCode } from './errors.js';

/**
 * Sends a JSON request to the Ferry server with a bearer token.
 * @throws AuthError with the server's error code, or `unknown_error` when the server cannot be reached
 */
export async function call<T>(
  url: string,
  token: string,
  init: { method: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal },
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new AuthError(AuthErrorCode.unknownError, 'The Ferry server could not be reached.');
  }
  const body = (await res.json().catch(() => undefined)) as
    { error?: { code?: unknown; message?: unknown } } | undefined;
  if (!res.ok) {
    const e = body?.error;
    throw new AuthError(
      typeof e?.code === 'string' ? e.code : AuthErrorCode.unknownError,
      typeof e?.message === 'string' ? e.message : `The Ferry server answered ${res.status}.`,
    );
  }
  return body as T;
}
