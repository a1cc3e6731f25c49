import { isSandboxError, sandboxError, type SandboxError } from './errors.js';
import type { HostReference, SandboxLimits } from './ivm.js';
import { clip, jsonRefusal } from './json.js';
import { ERROR_PREFIX } from './protocol.js';
import { httpError } from './proxy.js';

// Primordials, captured before any script runs: the size checks must not be fooled by a patched getter.
const stringify = JSON.stringify;
const { apply, getOwnPropertyDescriptor, getPrototypeOf } = Reflect;
// eslint-disable-next-line @typescript-eslint/unbound-method -- a static captured as a primordial
const { isView } = ArrayBuffer;
const byteLength = getOwnPropertyDescriptor(getPrototypeOf(Uint8Array.prototype) as object, 'byteLength')!
  .get as () => number;
const isRecordOp = (op: string): boolean =>
  op === 'batchSave' || op === 'batchUpdate' || op === 'batchDelete';

/** A log line as it is buffered in the isolate. */
export interface BufferedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  timestamp: number;
  truncated?: boolean;
}

const FLUSH_AT = 200;
/** Buffered log text that triggers a flush, so one host call never carries more than about this much. */
const FLUSH_CHARS = 1_000_000;
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
  private lineChars = 0;
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
   * Calls host operation `op` with `args`, encoded as JSON here in the isolate (see {@link send}). With
   * `request` (a proxy call), a response status ≥ 400 rejects with an AxiosError-like error. Rejects with
   * `host_call_too_large` when the arguments are too large, with the host's refusal (a limit breach is
   * sticky) or with `host_error` when a host method threw. Written with `then` and no closures per call:
   * each promise hop and allocation shows in the round trip.
   */
  call(op: string, args: unknown[], request?: Record<string, unknown>): Promise<unknown> {
    if (this.fatal) return Promise.reject(this.fatal);
    let json: string;
    let bytes: Uint8Array | null = null;
    try {
      // A proxy body of bytes crosses as bytes, beside the JSON of the rest of the request.
      const first = args[0] as { data?: unknown } | undefined;
      if (op === 'proxy' && isView(first?.data)) {
        bytes = first.data as Uint8Array;
        args = [{ ...first, data: undefined }];
      }
      json = this.json(args, isRecordOp(op) ? 'invalid_record' : 'script_runtime_error', op);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.callJson(op, json, bytes, request);
  }

  /**
   * Like {@link call}, with the arguments already encoded as a JSON array (batches of records are
   * encoded record by record, to be split by size).
   */
  callJson(
    op: string,
    json: string,
    bytes: Uint8Array | null = null,
    request?: Record<string, unknown>,
  ): Promise<unknown> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.inFlight >= this.limits.maxHostCallsInFlight) {
      return Promise.reject(
        this.fail(
          'too_many_host_calls',
          `More than ${this.limits.maxHostCallsInFlight} host calls in flight`,
        ),
      );
    }
    let sent: Promise<unknown>;
    try {
      sent = this.send(op, json, bytes);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.inFlight++;
    const failed = isRecordOp(op) ? this.failedRecords : this.failed;
    return request
      ? sent.then((value) => this.httpReply(value, request), failed)
      : sent.then(this.replied, failed);
  }

  /**
   * `JSON.stringify(value)`, read once (getters and Proxy traps run once, and what is measured is what
   * crosses); a value that is not JSON data throws `code`, naming `what`.
   */
  json(value: unknown, code: string, what: string): string {
    let json: string | undefined;
    try {
      json = stringify(value);
    } catch (error) {
      throw sandboxError(code, `${what} is not JSON data: ${jsonRefusal(error)}`);
    }
    if (typeof json !== 'string') throw sandboxError(code, `${what} is not JSON data`);
    return json;
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
    return this.send('sleep', stringify([ms]), null).then(
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
      line.message = clip(message, this.limits.maxLogLineBytes);
      line.truncated = true;
    }
    this.lines.push(line);
    this.lineChars += line.message.length;
    if (this.lines.length >= FLUSH_AT || this.lineChars >= FLUSH_CHARS)
      this.send('log', '[]', null).catch(() => undefined);
  }

  /** The lines not flushed yet (the host writes them after the run). */
  takeLines(): BufferedLine[] {
    const lines = this.lines;
    this.lines = [];
    this.lineChars = 0;
    return lines;
  }

  /**
   * The one door out of the isolate: every host call passes here, its arguments as one JSON string (plus
   * the bytes of a proxy body), measured before anything is copied: more than `maxHostCallBytes` throws
   * `host_call_too_large` in the script and nothing crosses. Buffered log lines ride along (each cut to
   * `maxLogLineBytes`, at most 200 lines or about 1 MB of text per call).
   */
  private send(op: string, json: string, bytes: Uint8Array | null): Promise<unknown> {
    const size = json.length + (bytes ? apply(byteLength, bytes, []) : 0);
    const max = this.limits.maxHostCallBytes;
    if (size > max) {
      throw sandboxError(
        'host_call_too_large',
        `${op}: the arguments are ${size} bytes as JSON, more than the ${max} a host call may carry`,
      );
    }
    const logs = this.lines.length > 0 ? this.takeLines() : null;
    return this.#host.apply(undefined, [op, json, logs, bytes], options);
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
