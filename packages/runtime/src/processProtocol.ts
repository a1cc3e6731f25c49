/**
 * The messages between a process runtime and its child processes, and the parent's end of the host
 * bridge. Every message is checked before it is dispatched: a child runs untrusted code, so what it
 * sends is treated as input.
 */
import type { RuntimeHost } from './host.js';
import type { RunLimits } from './limits.js';
import type { RunKind, RunRequest, RunResult, RuntimeOptions, RuntimeStats } from './types.js';

/** The methods of {@link RuntimeHost} a child may call, and nothing else. */
export const HOST_METHODS = [
  'proxy',
  'batchSave',
  'batchUpdate',
  'batchDelete',
  'getRecordsByIds',
  'listRecords',
  'setMetadata',
  'updateMetadata',
  'getConnection',
  'getCheckpoint',
  'saveCheckpoint',
  'clearCheckpoint',
  'trackDeletesStart',
  'trackDeletesEnd',
  'setMergingStrategy',
  'log',
  'getEnvironmentVariables',
] as const satisfies readonly (keyof RuntimeHost)[];

/** One of {@link HOST_METHODS}. */
export type HostMethod = (typeof HOST_METHODS)[number];

// A method added to RuntimeHost fails the type check here until it is in the allow-list.
const exhaustive: [Exclude<keyof RuntimeHost, HostMethod>] extends [never] ? true : never = true;
void exhaustive;

const allowed = new Set<string>(HOST_METHODS);

/** A run as it is sent to a child: the request without its host and signal. */
export interface ChildRunRequest {
  code: string;
  kind: RunKind;
  input?: unknown;
  context: RunRequest['context'];
  limits?: Partial<RunLimits>;
}

/** From the parent to a child. */
export type ParentMessage =
  | { type: 'run'; runId: number; request: ChildRunRequest }
  | { type: 'abort'; runId: number }
  | { type: 'hostResult'; runId: number; callId: number; value?: unknown; error?: string };

/** From a child to the parent. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'host'; runId: number; callId: number; method: string; args: unknown[] }
  | { type: 'result'; runId: number; result: RunResult; stats: RuntimeStats }
  /** `run()` rejected in the child (a malformed request): the parent rejects with a TypeError. */
  | { type: 'rejected'; runId: number; message: string };

/** The options a child passes to its `createRuntime`, as JSON in its first argument. */
export type ChildOptions = Pick<
  RuntimeOptions,
  'memoryLimitMb' | 'poolSize' | 'maxConcurrentRuns' | 'maxRunsPerIsolate' | 'limits'
>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;
const isId = (value: unknown): value is number => Number.isSafeInteger(value);

/**
 * Checks the envelope of a message from a child; `undefined` when it is not one of {@link ChildMessage}.
 * @param message - what arrived on the IPC channel
 */
export function parseChildMessage(message: unknown): ChildMessage | undefined {
  if (!isObject(message)) return undefined;
  switch (message.type) {
    case 'ready':
      return { type: 'ready' };
    case 'host':
      return isId(message.runId) &&
        isId(message.callId) &&
        typeof message.method === 'string' &&
        Array.isArray(message.args)
        ? (message as ChildMessage)
        : undefined;
    case 'result':
      return isId(message.runId) && isObject(message.result) && isObject(message.result.stats)
        ? (message as ChildMessage)
        : undefined;
    case 'rejected':
      return isId(message.runId) && typeof message.message === 'string'
        ? (message as ChildMessage)
        : undefined;
    default:
      return undefined;
  }
}

/**
 * Serves one host call of a child: calls `host[method](...args)` when `method` is in
 * {@link HOST_METHODS}, and rejects otherwise (an own property of the host or of `Object.prototype`
 * is never reached by name).
 * @param host - the run's host
 * @param method - the method name the child sent
 * @param args - its arguments
 */
export function serveHostCall(host: RuntimeHost, method: string, args: unknown[]): Promise<unknown> {
  if (!allowed.has(method)) return Promise.reject(new Error(`Unknown host method "${method}"`));
  try {
    const callable = host as unknown as Record<HostMethod, (...a: unknown[]) => Promise<unknown>>;
    // A child's record texts are not passed on: nothing here checked them against its records.
    if (method === 'batchSave' || method === 'batchUpdate' || method === 'batchDelete')
      args = args.slice(0, 2);
    return Promise.resolve(callable[method as HostMethod](...args));
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * A typed array or DataView as a copy that owns its whole buffer. IPC delivers views into the buffer of
 * the message they came in, and a script reaching `.buffer` must see its bytes only, as in-process.
 * @param value - anything; only views that share their buffer are copied
 */
export function ownBuffer<T>(value: T): T {
  if (!ArrayBuffer.isView(value)) return value;
  const { buffer, byteOffset, byteLength } = value;
  if (byteOffset === 0 && byteLength === buffer.byteLength) return value;
  const bytes = buffer.slice(byteOffset, byteOffset + byteLength);
  if (Buffer.isBuffer(value)) return Buffer.from(bytes) as T;
  if (value instanceof DataView) return new DataView(bytes) as T;
  return new (value.constructor as new (bytes: ArrayBufferLike) => T)(bytes);
}

/** The bytes of a proxy request or response, owning their buffer (see {@link ownBuffer}). */
export function ownProxyBytes<T>(value: T): T {
  if (typeof value !== 'object' || value === null || !('data' in value)) return value;
  const data = ownBuffer(value.data);
  return data === value.data ? value : { ...value, data };
}
