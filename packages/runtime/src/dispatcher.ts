import ivm from 'isolated-vm';
import type { RunError, RuntimeErrorCode } from './errors.js';
import type { LogLine, RuntimeHost, ScriptRecord } from './host.js';
import type { RunLimits } from './limits.js';

/** The reply envelope the isolate's bridge expects. */
export interface Reply {
  v?: unknown;
  e?: { code: string; message: string; fatal?: boolean };
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
type Args = unknown[];

/**
 * The host end of one run's bridge: receives every call the isolate makes, enforces the limits a
 * script could otherwise get around (calls in flight, log lines, timers, batch sizes), forwards to the
 * {@link RuntimeHost}, and wraps results and failures in a {@link Reply}.
 */
export class Dispatcher {
  readonly ref: ivm.Reference<(op: string, args: Args, logs?: LogLine[]) => Promise<Reply>>;
  /** The first limit breach; it ends the run whatever the script does next. */
  fatal: RunError | undefined;
  hostCalls = 0;
  /** Calls (timers included) whose reply has not been sent yet. */
  outstanding = 0;
  /** Set when the isolate called after the run ended: its context is not dead, so the isolate must go. */
  dirty = false;
  private closed = false;
  private inFlight = 0;
  private logLines = 0;
  private logChain: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly host: RuntimeHost,
    private readonly limits: RunLimits,
  ) {
    this.ref = new ivm.Reference((op: string, args: Args, logs?: LogLine[]) => this.dispatch(op, args, logs));
  }

  /** Records a limit breach (the first one wins) and returns its reply. */
  breach(code: RuntimeErrorCode, message: string): Reply {
    this.fatal ??= { code, message };
    return { e: { code: this.fatal.code, message: this.fatal.message, fatal: true } };
  }

  /** Sends log lines to the host in order; also called with the lines left at the end of the run. */
  log(lines: unknown): Promise<void> {
    if (!Array.isArray(lines) || lines.length === 0) return this.logChain;
    this.logLines += lines.length;
    if (this.logLines > this.limits.maxLogLines) {
      this.breach('log_limit_exceeded', `More than ${this.limits.maxLogLines} log lines`);
      return this.logChain;
    }
    const max = this.limits.maxLogLineBytes;
    const clean: LogLine[] = lines.map((line: Partial<LogLine>) => {
      const out: LogLine = {
        level: LEVELS.has(line.level as string) ? (line.level as LogLine['level']) : 'info',
        message: String(line.message),
        timestamp: Number(line.timestamp) || Date.now(),
      };
      if (out.message.length > max + 20) out.message = out.message.slice(0, max) + '… [truncated]';
      if (line.truncated || out.message.length > max) out.truncated = true;
      return out;
    });
    this.logChain = this.logChain.then(() => this.host.log(clean)).catch(() => undefined);
    return this.logChain;
  }

  /** Ends the run: timers are cancelled, later calls mark the isolate dirty. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  release(): void {
    this.ref.release();
  }

  private async dispatch(op: string, args: Args, logs?: LogLine[]): Promise<Reply> {
    this.hostCalls++;
    if (this.closed) {
      this.dirty = true;
      return { e: { code: 'isolate_failure', message: 'The run has ended', fatal: true } };
    }
    if (logs) await this.log(logs);
    const fatal = this.fatal as RunError | undefined;
    if (fatal) return this.breach(fatal.code, fatal.message);
    if (op === 'log') return { v: null };
    if (op === 'sleep') return this.sleep(Number(args[0]) || 0);
    if (this.inFlight >= this.limits.maxHostCallsInFlight) {
      return this.breach('too_many_host_calls', `More than ${this.limits.maxHostCallsInFlight} host calls in flight`);
    }
    this.inFlight++;
    this.outstanding++;
    try {
      return await this.forward(op, args);
    } catch (error) {
      return { e: { code: 'host_error', message: error instanceof Error ? error.message : String(error) } };
    } finally {
      this.inFlight--;
      this.outstanding--;
    }
  }

  private sleep(ms: number): Promise<Reply> | Reply {
    if (this.timers.size >= this.limits.maxTimers) return this.breach('too_many_timers', `More than ${this.limits.maxTimers} pending timers`);
    this.outstanding++;
    return new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.outstanding--;
        resolve({ v: null });
      }, ms);
      this.timers.add(timer);
    });
  }

  private records(op: string, value: unknown): ScriptRecord[] | Reply {
    if (!Array.isArray(value)) return { e: { code: 'invalid_record', message: `${op}: records must be an array` } };
    if (value.length > this.limits.recordsPerHostCall) {
      return this.breach('batch_too_large', `${op}: ${value.length} records in one host call, more than ${this.limits.recordsPerHostCall}`);
    }
    for (const record of value as Partial<ScriptRecord>[]) {
      const id = record?.id;
      if (typeof id !== 'string' && typeof id !== 'number') return { e: { code: 'invalid_record', message: `${op}: a record has no id` } };
    }
    return value as ScriptRecord[];
  }

  private async forward(op: string, args: Args): Promise<Reply> {
    const host = this.host;
    const [a, b] = args as [never, never];
    switch (op) {
      case 'proxy':
        return { v: await host.proxy(a) };
      case 'batchSave':
      case 'batchUpdate':
      case 'batchDelete': {
        const records = this.records(op, b);
        if (!Array.isArray(records)) return records;
        await host[op](String(a), records);
        return { v: null };
      }
      case 'getRecordsByIds': {
        const ids = args[1];
        if (!Array.isArray(ids) || ids.length > 100) return this.breach('batch_too_large', 'getRecordsByIds: more than 100 ids in one host call');
        return { v: await host.getRecordsByIds(String(a), ids.map(String)) };
      }
      case 'setMetadata':
        return { v: await host.setMetadata(a) };
      case 'updateMetadata':
        return { v: await host.updateMetadata(a) };
      case 'getConnection':
        return { v: await host.getConnection(a ?? {}) };
      case 'getCheckpoint':
        return { v: await host.getCheckpoint() };
      case 'saveCheckpoint':
        return { v: await host.saveCheckpoint(a) };
      case 'clearCheckpoint':
        return { v: await host.clearCheckpoint() };
      case 'trackDeletesStart':
        return { v: await host.trackDeletesStart(String(a)) };
      case 'trackDeletesEnd':
        return { v: await host.trackDeletesEnd(String(a)) };
      case 'setMergingStrategy':
        return { v: await host.setMergingStrategy(String(a), b) };
      case 'getEnvironmentVariables':
        return { v: await host.getEnvironmentVariables() };
      default:
        return { e: { code: 'script_runtime_error', message: `Unknown host operation "${op}"` } };
    }
  }
}
