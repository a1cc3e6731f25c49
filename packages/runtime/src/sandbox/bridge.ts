import { isSandboxError, sandboxError, type SandboxError } from './errors.js';
import type { HostReference, SandboxLimits } from './ivm.js';
import { ERROR_PREFIX } from './protocol.js';
import { httpError } from './proxy.js';

/** A log line as it is buffered in the isolate. */
export interface BufferedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  timestamp: number;
  truncated?: boolean;
}

const FLUSH_AT = 200;
/** How isolated-vm words a value its copy refuses. */
const CLONE_FAILURE = /could not be cloned\.?$/;
const options = { arguments: { copy: true }, result: { promise: true, copy: true } } as const;

/**
 * The isolate's only door to the host: one Reference to the host dispatcher, wrapped so that every call
 * carries the buffered log lines, counts calls in flight, and turns host error envelopes into errors.
 * A limit breach is sticky: once `fatal` is set, every later call throws it again.
 */
export class Bridge {
  fatal: SandboxError | undefined;
  private inFlight = 0;
  private lines: BufferedLine[] = [];
  private logged = 0;
  private timers = 0;

  readonly #host: HostReference;

  constructor(
    host: HostReference,
    readonly limits: SandboxLimits,
  ) {
    this.#host = host;
  }

  /** Marks the run failed with a limit error and returns it, for throwing. */
  fail(code: string, message: string): SandboxError {
    this.fatal ??= sandboxError(code, message);
    return this.fatal;
  }

  /**
   * Calls host operation `op`. With `request` (a proxy call), a response status ≥ 400 rejects with an
   * AxiosError-like error. Rejects with the host's refusal (a limit breach is sticky) or with
   * `host_error` when a host method threw. Written with `then` and no closures per call: each promise
   * hop and allocation shows in the round trip.
   */
  call(op: string, args: unknown[], request?: Record<string, unknown>): Promise<unknown> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.inFlight >= this.limits.maxHostCallsInFlight) {
      return Promise.reject(
        this.fail(
          'too_many_host_calls',
          `More than ${this.limits.maxHostCallsInFlight} host calls in flight`,
        ),
      );
    }
    this.inFlight++;
    const sent = this.send(op, args);
    const failed =
      op === 'batchSave' || op === 'batchUpdate' || op === 'batchDelete' ? this.failedRecords : this.failed;
    return request
      ? sent.then((value) => this.httpReply(value, request), failed)
      : sent.then(this.replied, failed);
  }

  private readonly replied = (value: unknown): unknown => {
    this.inFlight--;
    return value;
  };

  private readonly failed = (error: unknown): never => {
    this.inFlight--;
    return this.refused(error, 'script_runtime_error');
  };

  private readonly failedRecords = (error: unknown): never => {
    this.inFlight--;
    return this.refused(error, 'invalid_record');
  };

  private httpReply(value: unknown, request: Record<string, unknown>): unknown {
    this.inFlight--;
    const response = value as { status: number; headers: Record<string, string>; data: unknown };
    if (response.status >= 400) throw httpError(response, request);
    return response;
  }

  /**
   * Waits `ms` on the host's clock (for timers); counted against `maxTimers`, not host calls. Throws
   * synchronously when the limit is hit, so a loop creating timers stops at once.
   */
  sleep(ms: number): Promise<void> {
    if (this.fatal) throw this.fatal;
    if (this.timers >= this.limits.maxTimers) {
      throw this.fail('too_many_timers', `More than ${this.limits.maxTimers} pending timers`);
    }
    this.timers++;
    return this.send('sleep', [ms]).then(
      () => void this.timers--,
      (error: unknown) => {
        this.timers--;
        return this.refused(error, 'script_runtime_error');
      },
    );
  }

  /** Buffers one log line; flushes every 200 lines. */
  log(level: BufferedLine['level'], message: string): void {
    if (this.fatal) throw this.fatal;
    if (++this.logged > this.limits.maxLogLines) {
      throw this.fail('log_limit_exceeded', `More than ${this.limits.maxLogLines} log lines`);
    }
    const line: BufferedLine = { level, message, timestamp: Date.now() };
    if (message.length > this.limits.maxLogLineBytes) {
      line.message = message.slice(0, this.limits.maxLogLineBytes) + '… [truncated]';
      line.truncated = true;
    }
    this.lines.push(line);
    if (this.lines.length >= FLUSH_AT) this.send('log', []).catch(() => undefined);
  }

  /** The lines not flushed yet (the host writes them after the run). */
  takeLines(): BufferedLine[] {
    const lines = this.lines;
    this.lines = [];
    return lines;
  }

  private send(op: string, args: unknown[]): Promise<unknown> {
    const logs = this.lines.length > 0 ? this.takeLines() : undefined;
    return this.#host.apply(undefined, logs ? [op, args, logs] : [op, args], options);
  }

  /**
   * Turns a rejection into the script's error: a refusal of the dispatcher (its code), a value the copy
   * could not clone (a function, a symbol, a Proxy: `cloneCode`), or an error the host threw.
   */
  private refused(thrown: unknown, cloneCode: string): never {
    if (isSandboxError(thrown)) throw thrown;
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    if (CLONE_FAILURE.test(message)) throw sandboxError(cloneCode, `Not JSON data: ${message}`);
    if (!message.startsWith(ERROR_PREFIX)) throw sandboxError('host_error', message);
    const {
      code,
      message: text,
      fatal,
    } = JSON.parse(message.slice(ERROR_PREFIX.length)) as { code: string; message: string; fatal: boolean };
    const error = sandboxError(code, text);
    if (fatal) this.fatal ??= error;
    throw error;
  }
}
