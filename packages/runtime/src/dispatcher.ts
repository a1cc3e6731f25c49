import ivm from 'isolated-vm';
import type { RunError, RuntimeErrorCode } from './errors.js';
import type { LogLine, RuntimeHost } from './host.js';
import type { RunLimits } from './limits.js';
import { normalizeRecords, splitRecordTexts } from './records.js';
import { ERROR_PREFIX } from './sandbox/protocol.js';

const isRecordOp = (op: string): boolean =>
  op === 'batchSave' || op === 'batchUpdate' || op === 'batchDelete';
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
type Args = unknown[];
type HostFunction = (op: string, json: string, logs: LogLine[] | null, bytes: Uint8Array | null) => unknown;

/** An error for the isolate's bridge, its code and message encoded in the message (they cross as text). */
function refusal(code: string, message: string, fatal: boolean): Promise<never> {
  const refused = Promise.reject(new Error(ERROR_PREFIX + JSON.stringify({ code, message, fatal })));
  // isolated-vm attaches its handler a little later; without this Node would call it unhandled.
  refused.catch(() => undefined);
  return refused;
}

/**
 * The host end of one run's bridge: receives every call the isolate makes, enforces the limits a
 * script could otherwise get around (calls in flight, log lines, timers, batch sizes) and forwards to
 * the {@link RuntimeHost}. A host method's promise goes back to the isolate as is (no extra promise hop:
 * each one shows in the round trip); refusals are rejections whose message carries the error code, and
 * anything else the host throws arrives as `host_error`.
 */
export class Dispatcher {
  readonly ref: ivm.Reference<HostFunction>;
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
  private readonly settle = (): void => {
    this.inFlight--;
    this.outstanding--;
  };

  constructor(
    private readonly host: RuntimeHost,
    private readonly limits: RunLimits,
  ) {
    this.ref = new ivm.Reference<HostFunction>((op, json, logs, bytes) =>
      this.dispatch(op, json, logs, bytes),
    );
  }

  /** Records a limit breach (the first one wins) and returns the refusal to send. */
  breach(code: RuntimeErrorCode, message: string): Promise<never> {
    this.fatal ??= { code, message };
    return refusal(this.fatal.code, this.fatal.message, true);
  }

  /** Sends log lines to the host in order; also called with the lines left at the end of the run. */
  log(lines: unknown): Promise<void> {
    if (!Array.isArray(lines) || lines.length === 0) return this.logChain;
    this.logLines += lines.length;
    if (this.logLines > this.limits.maxLogLines) {
      void this.breach('log_limit_exceeded', `More than ${this.limits.maxLogLines} log lines`);
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

  private dispatch(
    op: string,
    json: string,
    logs: LogLine[] | null,
    bytes: Uint8Array | null,
  ): Promise<unknown> | null {
    this.hostCalls++;
    if (this.closed) {
      this.dirty = true;
      return refusal('isolate_failure', 'The run has ended', true);
    }
    if (logs) void this.log(logs);
    if (this.fatal) return this.breach(this.fatal.code, this.fatal.message);
    if (op === 'log') return null;
    // The isolate measured and encoded the arguments; checked again here, before they are parsed.
    const size =
      (typeof json === 'string' ? json.length : 0) + (bytes instanceof Uint8Array ? bytes.byteLength : 0);
    if (size > this.limits.maxHostCallBytes)
      return refusal(
        'host_call_too_large',
        `${op}: the arguments are more than ${this.limits.maxHostCallBytes} bytes`,
        false,
      );
    let args: unknown;
    // Records with the length of each one's JSON: each record is parsed from its own text, kept for the host.
    const texts = isRecordOp(op) && bytes instanceof Uint8Array ? splitRecordTexts(json, bytes) : undefined;
    if (typeof texts === 'string') return refusal('invalid_record', `${op}: ${texts}`, false);
    if (texts) args = [texts.model, texts.records, texts.texts];
    else {
      try {
        args = JSON.parse(json);
      } catch {
        args = undefined;
      }
    }
    if (!Array.isArray(args)) return refusal('script_runtime_error', `${op}: malformed arguments`, false);
    if (op === 'sleep') return this.sleep(Number(args[0]) || 0);
    if (op === 'proxy' && bytes instanceof Uint8Array) {
      if (typeof args[0] !== 'object' || args[0] === null)
        return refusal('script_runtime_error', 'proxy: malformed request', false);
      (args[0] as Record<string, unknown>).data = bytes;
    }
    const invalid = this.validate(op, args);
    if (invalid) return invalid;
    if (this.inFlight >= this.limits.maxHostCallsInFlight) {
      return this.breach(
        'too_many_host_calls',
        `More than ${this.limits.maxHostCallsInFlight} host calls in flight`,
      );
    }
    this.inFlight++;
    this.outstanding++;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(this.forward(op, args));
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Registered before isolated-vm's own handlers, so the counts are down when the isolate resumes.
    pending.then(this.settle, this.settle);
    return pending;
  }

  private sleep(ms: number): Promise<unknown> {
    if (this.timers.size >= this.limits.maxTimers)
      return this.breach('too_many_timers', `More than ${this.limits.maxTimers} pending timers`);
    this.outstanding++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.outstanding--;
        resolve(null);
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Checks what the isolate side already checked, for the calls whose size matters to the host. */
  private validate(op: string, args: Args): Promise<never> | undefined {
    if (op === 'batchSave' || op === 'batchUpdate' || op === 'batchDelete') {
      const records = args[1];
      if (!Array.isArray(records)) return refusal('invalid_record', `${op}: records must be an array`, false);
      if (records.length > this.limits.recordsPerHostCall) {
        return this.breach(
          'batch_too_large',
          `${op}: ${records.length} records in one host call, more than ${this.limits.recordsPerHostCall}`,
        );
      }
      const invalid = normalizeRecords(records);
      if (invalid) return refusal('invalid_record', `${op}: ${invalid}`, false);
    } else if (op === 'getRecordsByIds') {
      const ids = args[1];
      if (!Array.isArray(ids) || ids.length > 100)
        return this.breach('batch_too_large', 'getRecordsByIds: more than 100 ids in one host call');
    }
    return undefined;
  }

  private forward(op: string, args: Args): Promise<unknown> {
    const host = this.host;
    const a = args[0] as never;
    const b = args[1] as never;
    switch (op) {
      case 'proxy':
        return host.proxy(a);
      case 'batchSave':
      case 'batchUpdate':
      case 'batchDelete':
        return args.length > 2 ? host[op](String(a), b, args[2] as string[]) : host[op](String(a), b);
      case 'getRecordsByIds':
        return host.getRecordsByIds(String(a), (b as unknown[]).map(String));
      case 'listRecords':
        return host.listRecords(String(a), typeof b === 'string' ? b : null);
      case 'setMetadata':
        return host.setMetadata(a);
      case 'updateMetadata':
        return host.updateMetadata(a);
      case 'getConnection':
        return host.getConnection(a ?? {});
      case 'getCheckpoint':
        return host.getCheckpoint();
      case 'saveCheckpoint':
        return host.saveCheckpoint(a);
      case 'clearCheckpoint':
        return host.clearCheckpoint();
      case 'trackDeletesStart':
        return host.trackDeletesStart(String(a));
      case 'trackDeletesEnd':
        return host.trackDeletesEnd(String(a));
      case 'setMergingStrategy':
        return host.setMergingStrategy(String(a), b);
      case 'getEnvironmentVariables':
        return host.getEnvironmentVariables();
      default:
        return Promise.reject(new Error(`Unknown host operation "${op}"`));
    }
  }
}
