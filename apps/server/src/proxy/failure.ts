import { FerryError } from '../errors.js';
import { FORBIDDEN_ADDRESS } from '../outbound/guard.js';

/** A failed exchange: `network` failures may be retried, `fatal` ones end the request. */
export interface Failure {
  kind: 'network' | 'fatal';
  error: FerryError;
}

function codeOf(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code === FORBIDDEN_ADDRESS || depth === 0 || code.startsWith('E')) return code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function hasForbidden(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if ((e as { code?: unknown }).code === FORBIDDEN_ADDRESS) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Turns what an exchange threw into a Ferry error, and says whether another attempt may help. */
export function classifyFailure(err: unknown, caller: AbortSignal | undefined, timeoutMs: number): Failure {
  if (caller?.aborted) {
    return {
      kind: 'fatal',
      error: new FerryError('upstream_unreachable', 'The caller went away.', { cause: err }),
    };
  }
  if (codeOf(err) === 'UND_ERR_HEADERS_TIMEOUT') {
    return {
      kind: 'fatal',
      error: new FerryError('proxy_timeout', `The provider did not answer within ${timeoutMs} ms.`),
    };
  }
  if (hasForbidden(err)) {
    const message = err instanceof Error ? err.message : 'The proxy may not reach this address.';
    return { kind: 'fatal', error: new FerryError('forbidden_url', message) };
  }
  if (err instanceof FerryError) return { kind: 'fatal', error: err };
  const code = codeOf(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return {
      kind: 'network',
      error: new FerryError('proxy_timeout', 'Connecting to the provider timed out.'),
    };
  }
  return {
    kind: 'network',
    error: new FerryError(
      'upstream_unreachable',
      `The provider could not be reached (${code ?? 'network error'}).`,
    ),
  };
}

/** Waits `ms`, then rejects if the caller went away meanwhile (or its signal aborted). */
export async function sleep(
  ms: number,
  caller: { signal?: AbortSignal | undefined; gone?: (() => boolean) | undefined },
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (caller.signal?.aborted || caller.gone?.())
    throw new FerryError('upstream_unreachable', 'The caller went away.');
}
