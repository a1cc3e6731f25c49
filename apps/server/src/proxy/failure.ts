import { FerryError } from '../errors.js';
import { FORBIDDEN_ADDRESS } from './ssrf.js';

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
export function classifyFailure(err: unknown, attempt: AbortSignal, caller: AbortSignal | undefined): Failure {
  if (caller?.aborted) {
    return { kind: 'fatal', error: new FerryError('upstream_unreachable', 'The caller went away.', { cause: err }) };
  }
  if (attempt.aborted) {
    const reason: unknown = attempt.reason;
    const error = reason instanceof FerryError ? reason : new FerryError('proxy_timeout', 'The provider did not answer in time.');
    return { kind: 'fatal', error };
  }
  if (hasForbidden(err)) {
    const message = err instanceof Error ? err.message : 'The proxy may not reach this address.';
    return { kind: 'fatal', error: new FerryError('forbidden_url', message) };
  }
  if (err instanceof FerryError) return { kind: 'fatal', error: err };
  const code = codeOf(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { kind: 'network', error: new FerryError('proxy_timeout', 'Connecting to the provider timed out.') };
  }
  return {
    kind: 'network',
    error: new FerryError('upstream_unreachable', `The provider could not be reached (${code ?? 'network error'}).`),
  };
}

/** Waits `ms`, or rejects when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new FerryError('upstream_unreachable', 'The caller went away.'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new FerryError('upstream_unreachable', 'The caller went away.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
