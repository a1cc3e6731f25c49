import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RuntimeErrorCode } from './errors.js';
import { resolveLimits } from './limits.js';
import {
  ownProxyBytes,
  parseChildMessage,
  serveHostCall,
  type ChildOptions,
  type ParentMessage,
} from './processProtocol.js';
import { checkRequest } from './runtime.js';
import type { RunRequest, RunResult, Runtime, RuntimeOptions, RuntimeStats } from './types.js';

/** Options of {@link createProcessRuntime}: the process pool, then each child's {@link RuntimeOptions}. */
export interface ProcessRuntimeOptions extends RuntimeOptions {
  /** Child processes, each with its own isolate pool (default 2). Runs go to the least busy one. */
  processes?: number;
  /** A child whose run is still going this long past the run's `wallTimeMs` is killed (default 5,000 ms). */
  killGraceMs?: number;
  /** Where the children's stdout and stderr go (default `inherit`: a crash report reaches the log). */
  output?: 'inherit' | 'ignore';
}

/** Counters of a {@link ProcessRuntime}, summed over its children (as of each child's last result). */
export interface ProcessRuntimeStats extends RuntimeStats {
  /** Live child processes. */
  processes: number;
  /** Their process ids. */
  pids: number[];
  /** Children that died (a crash, a kill) and were replaced. */
  processesReplaced: number;
  /** Runs sent to a child and not finished yet (also reported as `busy`). */
  inFlight: number;
  /** Runs finished, whatever their outcome. */
  completed: number;
}

/** A {@link Runtime} whose isolates live in child processes; `stats()` adds the process counters. */
export interface ProcessRuntime extends Runtime {
  stats(): ProcessRuntimeStats;
}

interface Child {
  process: ChildProcess;
  /** True once the child listens, false if it died first. */
  ready: Promise<boolean>;
  markReady(ok: boolean): void;
  wasReady: boolean;
  runs: Map<number, Flight>;
  dead: boolean;
  stats?: RuntimeStats;
}

interface Flight {
  runId: number;
  request: RunRequest;
  wallTimeMs: number;
  wallStart: number;
  hostCalls: number;
  /** Set when the parent killed the child because of this run. */
  forced?: RuntimeErrorCode;
  settle(result: RunResult | Error): void;
}

const MAX_TIMEOUT = 2 ** 31 - 1;

/** The child entry and node flags: from `dist/` plain node, from `src/` (vitest, tsx) through tsx. */
function childEntry(): { path: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(
    new URL(fromSource ? './processChild.ts' : './processChild.js', import.meta.url),
  );
  // isolated-vm needs --no-node-snapshot on Node 20.
  const execArgv = ['--no-node-snapshot'];
  if (fromSource) {
    let tsx = 'tsx';
    try {
      tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    } catch {
      // resolved from the working directory instead
    }
    execArgv.push('--conditions=source', '--import', tsx);
  }
  return { path, execArgv };
}

function checkOptions(options: ProcessRuntimeOptions): void {
  const { processes = 2, killGraceMs = 5000, memoryLimitMb = 128 } = options;
  if (!Number.isSafeInteger(processes) || processes < 1)
    throw new TypeError('processes must be a positive integer');
  if (!(killGraceMs >= 0)) throw new TypeError('killGraceMs must be a number ≥ 0');
  if (!(memoryLimitMb >= 8)) throw new TypeError('memoryLimitMb must be at least 8');
  resolveLimits('sync', options.limits);
}

/**
 * Creates a runtime that runs scripts in a pool of child processes, each with its own
 * {@link createRuntime} pool, so that a script which brings down V8 (isolated-vm can abort its process
 * on some out-of-memory paths) kills one child, not the caller. The host stays in this process: each
 * child's host calls come back over IPC and only {@link RuntimeHost} methods are served. A run on a
 * child that dies resolves with `isolate_failure` and the child is replaced; a child still running a
 * script `killGraceMs` past its `wallTimeMs` is killed and the run ends `wall_time_exceeded`.
 * @param options - process count, kill grace, and the options of each child's runtime (`poolSize`
 *   defaults to 1 per child)
 * @throws TypeError when an option is invalid
 */
export function createProcessRuntime(options: ProcessRuntimeOptions = {}): ProcessRuntime {
  checkOptions(options);
  const { processes = 2, killGraceMs = 5000, output = 'inherit', ...runtimeOptions } = options;
  const childOptions: ChildOptions = {
    memoryLimitMb: runtimeOptions.memoryLimitMb,
    poolSize: runtimeOptions.poolSize ?? 1,
    maxConcurrentRuns: runtimeOptions.maxConcurrentRuns,
    maxRunsPerIsolate: runtimeOptions.maxRunsPerIsolate,
    limits: runtimeOptions.limits,
  };
  const entry = childEntry();
  const children: Child[] = [];
  let nextRunId = 0;
  let runs = 0;
  let completed = 0;
  let replaced = 0;
  let disposed = false;

  /** Keeps this process alive only while a child has work. */
  function updateRef(child: Child): void {
    if (child.dead) return;
    if (child.runs.size > 0) {
      child.process.ref();
      child.process.channel?.ref();
    } else {
      child.process.unref();
      child.process.channel?.unref();
    }
  }

  /** Sends to a child; false when the message cannot be serialised (a failed write kills the child). */
  function post(child: Child, message: ParentMessage): boolean {
    if (child.dead) return false;
    try {
      child.process.send(message, undefined, undefined, (error: Error | null) => {
        if (error && !child.dead) child.process.kill('SIGKILL');
      });
      return true;
    } catch {
      return false;
    }
  }

  function finish(child: Child, flight: Flight, outcome: RunResult | Error): void {
    if (child.runs.get(flight.runId) !== flight) return;
    child.runs.delete(flight.runId);
    completed++;
    updateRef(child);
    flight.settle(outcome);
  }

  function onDeath(child: Child, reason: string): void {
    if (child.dead) return;
    child.dead = true;
    child.markReady(false);
    const index = children.indexOf(child);
    if (index >= 0) children.splice(index, 1);
    if (!disposed) replaced++;
    for (const flight of [...child.runs.values()]) {
      const code = flight.forced ?? 'isolate_failure';
      const message =
        code === 'wall_time_exceeded'
          ? `The script ran for more than ${flight.wallTimeMs} ms; its process was killed`
          : disposed
            ? 'The runtime was disposed'
            : `The script's process crashed (${reason})`;
      const stats = {
        cpuMs: 0,
        wallMs: performance.now() - flight.wallStart,
        heapBytes: 0,
        hostCalls: flight.hostCalls,
      };
      finish(child, flight, { error: { code, message }, stats });
    }
    // A child that never started is replaced on the next run, not in a loop.
    if (!disposed && child.wasReady) spawn();
  }

  function onHostCall(child: Child, runId: number, callId: number, method: string, args: unknown[]): void {
    const flight = child.runs.get(runId);
    if (!flight) {
      post(child, { type: 'hostResult', runId, callId, error: 'The run has ended' });
      return;
    }
    flight.hostCalls++;
    const reply = (message: ParentMessage): void => {
      // Ignored once the child is dead or the run is over.
      if (child.runs.get(runId) !== flight) return;
      if (!post(child, message))
        post(child, {
          type: 'hostResult',
          runId,
          callId,
          error: `${method}: the host's answer is not copyable`,
        });
    };
    if (method === 'proxy') args[0] = ownProxyBytes(args[0]);
    serveHostCall(flight.request.host, method, args).then(
      (value) => reply({ type: 'hostResult', runId, callId, value }),
      (error: unknown) =>
        reply({
          type: 'hostResult',
          runId,
          callId,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  }

  function onMessage(child: Child, raw: unknown): void {
    const message = parseChildMessage(raw);
    if (!message || child.dead) return;
    switch (message.type) {
      case 'ready':
        child.wasReady = true;
        child.markReady(true);
        return;
      case 'host':
        onHostCall(child, message.runId, message.callId, message.method, message.args);
        return;
      case 'result': {
        child.stats = message.stats;
        const flight = child.runs.get(message.runId);
        if (flight) finish(child, flight, message.result);
        return;
      }
      case 'rejected': {
        const flight = child.runs.get(message.runId);
        if (flight) finish(child, flight, new TypeError(message.message));
        return;
      }
    }
  }

  function spawn(): Child {
    const proc = fork(entry.path, [JSON.stringify(childOptions)], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', output, output, 'ipc'],
    });
    let markReady: (ok: boolean) => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => (markReady = resolve));
    const child: Child = { process: proc, ready, markReady, wasReady: false, runs: new Map(), dead: false };
    proc.on('message', (message) => onMessage(child, message));
    proc.on('exit', (code, signal) => onDeath(child, signal ? `signal ${signal}` : `exit code ${code}`));
    // A broken channel or a failed send: kill it, 'exit' then tells the rest. Without a pid it never ran.
    const kill = (): void => {
      if (proc.pid === undefined) onDeath(child, 'it did not start');
      else if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    };
    proc.on('error', kill);
    proc.on('disconnect', kill);
    children.push(child);
    updateRef(child);
    return child;
  }

  function pick(): Child {
    while (children.length < processes) spawn();
    let best = children[0]!;
    for (const child of children) if (child.runs.size < best.runs.size) best = child;
    return best;
  }

  async function run(request: RunRequest): Promise<RunResult> {
    if (disposed) throw new TypeError('The runtime is disposed');
    checkRequest(request);
    const { wallTimeMs } = resolveLimits(request.kind, runtimeOptions.limits, request.limits);
    const child = pick();
    const runId = nextRunId++;
    runs++;
    return new Promise<RunResult>((resolve, reject) => {
      const { signal } = request;
      const onAbort = (): void => void post(child, { type: 'abort', runId });
      const timer = setTimeout(
        () => {
          flight.forced = 'wall_time_exceeded';
          child.process.kill('SIGKILL');
        },
        Math.min(wallTimeMs + killGraceMs, MAX_TIMEOUT),
      ).unref();
      const flight: Flight = {
        runId,
        request,
        wallTimeMs,
        wallStart: performance.now(),
        hostCalls: 0,
        settle(outcome) {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      child.runs.set(runId, flight);
      updateRef(child);
      signal?.addEventListener('abort', onAbort, { once: true });
      void child.ready.then((ok) => {
        if (!ok || child.runs.get(runId) !== flight) return;
        const { code, kind, input, context, limits } = request;
        let sent: boolean;
        try {
          // Serialised here, synchronously: what cannot be cloned is the caller's mistake.
          child.process.send({ type: 'run', runId, request: { code, kind, input, context, limits } });
          sent = true;
        } catch (error) {
          finish(
            child,
            flight,
            new TypeError(`run: input and context must be copyable data (${(error as Error).message})`),
          );
          sent = false;
        }
        if (sent && signal?.aborted) onAbort();
      });
    });
  }

  for (let i = 0; i < processes; i++) spawn();

  return {
    run,
    stats(): ProcessRuntimeStats {
      const stats: ProcessRuntimeStats = {
        isolates: 0,
        idle: 0,
        busy: 0,
        queued: 0,
        runs,
        isolatesReplaced: 0,
        idleHeapBytes: 0,
        compiles: { fromSource: 0, fromCodeCache: 0, reused: 0 },
        processes: children.length,
        pids: [],
        processesReplaced: replaced,
        inFlight: 0,
        completed,
      };
      for (const child of children) {
        if (child.process.pid !== undefined) stats.pids.push(child.process.pid);
        stats.inFlight += child.runs.size;
        const s = child.stats;
        if (!s) continue;
        stats.isolates += s.isolates;
        stats.idle += s.idle;
        stats.isolatesReplaced += s.isolatesReplaced;
        stats.idleHeapBytes += s.idleHeapBytes;
        stats.compiles.fromSource += s.compiles.fromSource;
        stats.compiles.fromCodeCache += s.compiles.fromCodeCache;
        stats.compiles.reused += s.compiles.reused;
      }
      stats.busy = stats.inFlight;
      return stats;
    },
    async dispose(): Promise<void> {
      disposed = true;
      const exits = children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.process.exitCode !== null || child.process.signalCode !== null) resolve();
            else child.process.once('exit', () => resolve());
          }),
      );
      for (const child of [...children]) {
        // Held until it has exited: `await dispose()` must not leave this process with nothing to wait on.
        child.process.ref();
        child.process.kill('SIGKILL');
        onDeath(child, 'disposed');
      }
      await Promise.all(exits);
    },
  };
}
