import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import ivm from 'isolated-vm';
import { CodeCache, type CodeEntry } from './codeCache.js';
import { Dispatcher } from './dispatcher.js';
import { toRunError, type RunError, type RuntimeErrorCode } from './errors.js';
import { resolveLimits, type RunLimits } from './limits.js';
import { IsolatePool, type PooledIsolate } from './pool.js';
import { sandboxSource } from './sandboxBundle.js';
import type { BootEnv, BootResult } from './sandbox/ivm.js';
import { clip, jsonDeeperThan } from './sandbox/json.js';
import { inlineSourceMap, mapStack } from './sourceMap.js';
import type { RunKind, RunRequest, RunResult, Runtime, RuntimeOptions, RuntimeStats } from './types.js';
import { Watchdog } from './watchdog.js';

const KINDS = new Set<RunKind>(['sync', 'action', 'webhook', 'onEvent']);
/** Codes after which an isolate is not reused even if it is idle. */
const DISCARD = new Set<RuntimeErrorCode>([
  'out_of_memory',
  'cpu_time_exceeded',
  'wall_time_exceeded',
  'run_aborted',
  'isolate_failure',
]);

/** Throws a TypeError when `request` is malformed (shared with the process runtime). */
export function checkRequest(request: RunRequest): void {
  if (typeof request !== 'object' || request === null)
    throw new TypeError('run: the request must be an object');
  if (typeof request.code !== 'string') throw new TypeError('run: "code" must be a string');
  if (!KINDS.has(request.kind)) throw new TypeError(`run: unknown kind "${String(request.kind)}"`);
  const c = request.context as Partial<RunRequest['context']> | undefined;
  if (
    !c ||
    typeof c.connectionId !== 'string' ||
    typeof c.providerConfigKey !== 'string' ||
    typeof c.provider?.name !== 'string'
  ) {
    throw new TypeError('run: "context" needs connectionId, providerConfigKey and provider.name');
  }
  if (typeof request.host !== 'object' || request.host === null)
    throw new TypeError('run: "host" is required');
}

const INVALID = Symbol('invalid');

/** Parses JSON made by the sandbox; INVALID if a script managed to make it otherwise. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID;
  }
}

function lastSyncDate(value: Date | string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new TypeError('run: context.lastSyncDate is not a valid date');
  return date.toISOString();
}

/** Why the isolate died, from isolated-vm's message. */
function deathCode(error: unknown): RuntimeErrorCode {
  return error instanceof Error && error.message.includes('memory limit')
    ? 'out_of_memory'
    : 'isolate_failure';
}

/**
 * Creates a runtime: a pool of warm isolates that run untrusted Nango-style scripts, one isolate per
 * running script, with a fresh context per run and hard limits on memory, CPU, wall time, output, logs,
 * host calls, timers and batch sizes.
 * @param options - pool size and limits; see {@link RuntimeOptions}
 * @throws TypeError when an option is invalid
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const memoryLimitMb = options.memoryLimitMb ?? 128;
  if (!(memoryLimitMb >= 8)) throw new TypeError('memoryLimitMb must be at least 8');
  resolveLimits('sync', options.limits);
  const codes = new CodeCache();
  const sandbox: Promise<CodeEntry> = sandboxSource().then((wrapped) => ({ hash: 'sandbox', wrapped }));
  sandbox.catch(() => undefined);
  const size = options.poolSize ?? availableParallelism();
  const max = options.maxConcurrentRuns ?? 64;
  const pool = new IsolatePool(
    {
      memoryLimitMb,
      size,
      max,
      maxIdle: Math.max(size, Math.min(max, 4 * size)),
      maxRunsPerIsolate: options.maxRunsPerIsolate ?? 10_000,
    },
    sandbox,
  );
  const watchdog = new Watchdog();
  const active = new Set<PooledIsolate>();
  let runs = 0;
  let disposed = false;
  pool.warm();

  async function run(request: RunRequest): Promise<RunResult> {
    if (disposed) throw new TypeError('The runtime is disposed');
    checkRequest(request);
    const limits = resolveLimits(request.kind, options.limits, request.limits);
    const env: BootEnv = {
      kind: request.kind,
      input: request.input,
      context: {
        ...request.context,
        lastSyncDate: lastSyncDate(request.context.lastSyncDate),
      } as BootEnv['context'],
      limits,
      seed: new Uint8Array(randomBytes(32)),
    };
    let envCopy: ivm.ExternalCopy<BootEnv>;
    try {
      envCopy = new ivm.ExternalCopy(env);
    } catch (error) {
      throw new TypeError(`run: input and context must be copyable data (${(error as Error).message})`);
    }
    const entry = codes.get(request.code);
    let pooled: PooledIsolate;
    try {
      pooled = await pool.acquire();
    } catch (error) {
      envCopy.release();
      throw error;
    }
    active.add(pooled);
    runs++;
    const { isolate } = pooled;
    const wallStart = performance.now();
    const cpuStart = isolate.cpuTime;
    const dispatcher = new Dispatcher(request.host, limits);
    let stopped: RuntimeErrorCode | undefined;
    let cpuEnd: bigint | undefined;
    // isolated-vm 5 may never settle a call into an isolate disposed while a host answer is on its way
    // to it (an abort just before a host call resolves): the calls that wait on the script also end here.
    let onStopped = (): void => undefined;
    const isolateGone = new Promise<never>((_, reject) => {
      onStopped = () => reject(new Error('The isolate was disposed'));
    });
    isolateGone.catch(() => undefined);
    const untilStopped = <T>(call: Promise<T>): Promise<T> => Promise.race([call, isolateGone]);
    const stop = (code: RuntimeErrorCode): void => {
      stopped ??= code;
      if (!isolate.isDisposed) {
        cpuEnd = isolate.cpuTime;
        isolate.dispose();
      }
      onStopped();
    };
    const watched = {
      isolate,
      cpuStart,
      wallStart,
      cpuLimitMs: limits.cpuTimeMs,
      wallLimitMs: limits.wallTimeMs,
      onBreach: stop,
    };
    const onAbort = (): void => stop('run_aborted');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) stop('run_aborted');
    watchdog.watch(watched);

    let context: ivm.Context | undefined;
    let envSent = false;
    const refs: { release(): void }[] = [];
    let result: BootResult | undefined;
    let error: RunError | undefined;
    let clean = false;
    try {
      let script: ivm.Script;
      try {
        script = await pooled.script(entry, codes.counts);
      } catch (thrown) {
        if (isolate.isDisposed) throw thrown;
        throw Object.assign(new Error(`The script does not compile: ${String((thrown as Error).message)}`), {
          code: 'invalid_script',
        });
      }
      context = await isolate.createContext();
      // Both queued at once: the isolate runs them in order, the host waits for one round trip.
      const [booted, loaded] = await Promise.allSettled([
        pooled.sandbox.run(context, { reference: true }),
        script.run(context, { reference: true }),
      ]);
      if (booted.status === 'fulfilled') refs.push(booted.value);
      if (loaded.status === 'fulfilled') refs.push(loaded.value);
      if (booted.status === 'rejected') throw booted.reason;
      if (loaded.status === 'rejected') throw loaded.reason;
      const boot = booted.value;
      const wrapper = loaded.value;
      if (wrapper.typeof !== 'function')
        throw Object.assign(new Error('The script is not a CommonJS bundle'), { code: 'invalid_script' });
      const envArg = envCopy.copyInto({ release: true });
      envSent = true;
      result = (await untilStopped(
        boot.apply(undefined, [dispatcher.ref, wrapper.derefInto(), envArg], {
          result: { promise: true, copy: true },
        }),
      )) as BootResult;
      // The script's promise settled, but code it left running may still be queued in the isolate: wait
      // until the isolate is idle (still under the watchdog), then reuse it only if nothing is pending.
      const pending = dispatcher.outstanding > 0;
      dispatcher.close();
      await untilStopped(pooled.fence.run(context));
      clean = !pending && !dispatcher.dirty;
    } catch (thrown) {
      // Without a stop, the isolate is alive: the script left a promise rejection unhandled (isolated-vm
      // fails the call then, as Node fails the process) or it does not compile.
      error =
        stopped || isolate.isDisposed
          ? { code: stopped ?? deathCode(thrown), message: '' }
          : toRunError(thrown, 'script_runtime_error');
    } finally {
      watchdog.unwatch(watched);
      request.signal?.removeEventListener('abort', onAbort);
      dispatcher.close();
    }

    if (result?.logs.length) await dispatcher.log(result.logs);
    await dispatcher.log([]);
    let output: unknown;
    if (!error && dispatcher.fatal) error = dispatcher.fatal;
    if (!error && result && !result.ok && result.error) {
      error = toRunError(result.error, 'script_runtime_error');
      const payload = result.error.payload === undefined ? undefined : parseJson(result.error.payload);
      if (payload !== undefined && payload !== INVALID) error.payload = payload;
    }
    if (error) {
      // Cut in the isolate already, except a rejection the script left unhandled: isolated-vm copies that
      // one out itself (once per run, within the isolate's heap), so it is cut here too.
      error.message = clip(error.message, limits.maxErrorBytes);
      if (error.stack !== undefined) error.stack = clip(error.stack, limits.maxErrorBytes);
    }
    if (error?.stack) error.stack = mapStack(error.stack, inlineSourceMap(entry.hash, request.code));
    if (!error && result?.output !== undefined) {
      // Checked in the isolate; again here, where a script cannot have patched anything.
      if (result.output.length > limits.maxOutputBytes)
        error = {
          code: 'output_too_large',
          message: `The output is more than ${limits.maxOutputBytes} bytes`,
        };
      else if (jsonDeeperThan(result.output, limits.maxOutputDepth))
        error = {
          code: 'output_too_deep',
          message: `The output is nested deeper than ${limits.maxOutputDepth} levels`,
        };
      else {
        output = parseJson(result.output);
        if (output === INVALID) error = { code: 'invalid_action_output', message: 'The output is not JSON' };
      }
    }
    if (error && !error.message) error.message = messageOf(error.code, limits);

    // An isolate is reused only after a clean run (idle, nothing pending). Any other is disposed now,
    // before a synchronous call could wait on code it may still be running.
    const reuse = clean && !(error && DISCARD.has(error.code));
    if (!isolate.isDisposed) cpuEnd = isolate.cpuTime;
    if (!reuse) stop(error?.code ?? 'isolate_failure');
    const stats = {
      cpuMs: Number((cpuEnd ?? cpuStart) - cpuStart) / 1e6,
      wallMs: performance.now() - wallStart,
      heapBytes: reuse ? isolate.getHeapStatisticsSync().used_heap_size : 0,
      hostCalls: dispatcher.hostCalls,
    };
    for (const ref of refs) ref.release();
    if (!envSent) envCopy.release();
    if (reuse) context?.release();
    dispatcher.release();
    active.delete(pooled);
    pool.release(pooled, reuse);
    return error ? { error, stats } : { output, stats };
  }

  return {
    run,
    stats(): RuntimeStats {
      const s = pool.stats();
      return {
        isolates: s.idle + active.size,
        idle: s.idle,
        busy: s.busy,
        queued: s.queued,
        runs,
        isolatesReplaced: pool.replaced,
        compiles: { ...codes.counts },
        idleHeapBytes: s.idleHeapBytes,
      };
    },
    async dispose(): Promise<void> {
      disposed = true;
      pool.dispose();
      for (const pooled of active) pooled.dispose();
      codes.clear();
    },
  };
}

const MESSAGES: Partial<Record<RuntimeErrorCode, (limits: RunLimits) => string>> = {
  out_of_memory: () => 'The script ran out of memory',
  cpu_time_exceeded: (limits) => `The script used more than ${limits.cpuTimeMs} ms of CPU time`,
  wall_time_exceeded: (limits) => `The script ran for more than ${limits.wallTimeMs} ms`,
  run_aborted: () => 'The run was aborted',
};

function messageOf(code: RuntimeErrorCode, limits: RunLimits): string {
  return MESSAGES[code]?.(limits) ?? 'The isolate running the script failed';
}
