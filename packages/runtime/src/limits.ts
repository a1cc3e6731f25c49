import type { RunKind } from './types.js';

/** The per-run limits. Each breach ends the run with its own error code. */
export interface RunLimits {
  /** CPU time spent inside the isolate → `cpu_time_exceeded`. */
  cpuTimeMs: number;
  /** Time from start to end, waiting on the host included → `wall_time_exceeded`. */
  wallTimeMs: number;
  /** Size of the action (or webhook) output as JSON, in UTF-16 code units → `output_too_large`. */
  maxOutputBytes: number;
  /** Nesting of objects and arrays in the action (or webhook) output → `output_too_deep`. */
  maxOutputDepth: number;
  /**
   * Size of the arguments of one host call (a proxy request with its body, a batch of records, metadata,
   * a checkpoint…) as JSON in UTF-16 code units, plus raw bytes, measured in the isolate before anything
   * is copied out → `host_call_too_large`, thrown in the script. Batches of records are split to fit.
   */
  maxHostCallBytes: number;
  /**
   * An error's message and stack are each cut to this many UTF-16 code units, and an error payload
   * (an `ActionError`'s) larger than this as JSON is replaced by `{ message, truncated: true, reason }`.
   */
  maxErrorBytes: number;
  /** Longer log messages are cut (and flagged `truncated`). */
  maxLogLineBytes: number;
  /** Log lines per run → `log_limit_exceeded`. */
  maxLogLines: number;
  /** Host calls awaited at the same time → `too_many_host_calls`. */
  maxHostCallsInFlight: number;
  /** Records (or ids) in one batchSave/batchUpdate/batchDelete/getRecordsByIds call → `batch_too_large`. */
  maxRecordsPerBatch: number;
  /** Records per host call; larger batches are split. */
  recordsPerHostCall: number;
  /** Pending `setTimeout` / `setInterval` timers → `too_many_timers`. */
  maxTimers: number;
}

const HOUR = 3_600_000;

const wallByKind: Record<RunKind, number> = {
  sync: 24 * HOUR,
  action: 15 * 60_000,
  webhook: HOUR,
  onEvent: 5 * 60_000,
};

/**
 * The default limits of a kind of script (wall and CPU time follow Nango's task timeouts: sync 24 h,
 * action 15 min, webhook 1 h, on-event 5 min).
 * @param kind - the kind of script
 */
export function defaultLimits(kind: RunKind): RunLimits {
  const time = wallByKind[kind];
  return {
    cpuTimeMs: time,
    wallTimeMs: time,
    maxOutputBytes: 2 * 1024 * 1024,
    maxOutputDepth: 64,
    maxHostCallBytes: 10 * 1024 * 1024,
    maxErrorBytes: 100_000,
    maxLogLineBytes: 100_000,
    maxLogLines: 100_000,
    maxHostCallsInFlight: 32,
    maxRecordsPerBatch: 10_000,
    recordsPerHostCall: 1_000,
    maxTimers: 1_000,
  };
}

/**
 * Resolves the limits of one run: kind defaults, then the runtime's overrides, then the run's.
 * @throws TypeError when a limit is not a positive number
 */
export function resolveLimits(kind: RunKind, ...overrides: (Partial<RunLimits> | undefined)[]): RunLimits {
  const limits = defaultLimits(kind);
  for (const override of overrides) {
    if (!override) continue;
    for (const [key, value] of Object.entries(override) as [keyof RunLimits, unknown][]) {
      if (value === undefined) continue;
      if (!(key in limits)) throw new TypeError(`Unknown limit "${key}"`);
      if (typeof value !== 'number' || !(value > 0))
        throw new TypeError(`Limit "${key}" must be a positive number`);
      limits[key] = value;
    }
  }
  return limits;
}
