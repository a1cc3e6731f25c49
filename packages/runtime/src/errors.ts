/**
 * Every way a run can fail, as a stable string code. Codes never change once released.
 */
export const RUNTIME_ERROR_CODES = [
  /** The script threw (a sync, webhook or on-event script, or an action throwing anything but ActionError). */
  'script_runtime_error',
  /** An action threw `ActionError`; its `payload` is passed on intact. */
  'action_script_runtime_error',
  /** The bundle does not compile or exports nothing runnable for the requested kind. */
  'invalid_script',
  /** `require` of a module outside url, crypto and zod. */
  'module_not_allowed',
  /** The isolate hit its memory limit; it was disposed and replaced. */
  'out_of_memory',
  'cpu_time_exceeded',
  'wall_time_exceeded',
  /** The call stack overflowed (deep recursion). */
  'stack_overflow',
  /** The action output is larger than `maxOutputBytes` once serialised to JSON. */
  'output_too_large',
  /** The action output nests objects and arrays deeper than `maxOutputDepth`. */
  'output_too_deep',
  /** The action output is not JSON data (a function, a symbol, a bigint, a cycle…). */
  'invalid_action_output',
  /** Reserved: no longer raised (`zodValidateInput` now throws an `ActionError`, as Nango does). */
  'invalid_action_input',
  'log_limit_exceeded',
  /** More than `maxHostCallsInFlight` host calls at once. */
  'too_many_host_calls',
  /** More than `maxTimers` pending timers. */
  'too_many_timers',
  /** The arguments of one host call (or one record) are larger than `maxHostCallBytes` as JSON. */
  'host_call_too_large',
  /** One `batchSave` / `batchUpdate` / `batchDelete` / `getRecordsByIds` call with more than `maxRecordsPerBatch` items. */
  'batch_too_large',
  /** A record without an `id`, not a plain object, cyclic, too deep, or holding a function, symbol or bigint. */
  'invalid_record',
  /** A checkpoint that is not a flat object of strings, numbers and booleans. */
  'invalid_checkpoint',
  /** A host method threw and the script did not catch it. */
  'host_error',
  /** The caller aborted the run through its `signal`. */
  'run_aborted',
  /** The isolate died for another reason (disposed by the runtime shutting down, a V8 failure). */
  'isolate_failure',
] as const;

/** One of {@link RUNTIME_ERROR_CODES}. */
export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

/** Why a run failed, as `run()` reports it. */
export interface RunError {
  code: RuntimeErrorCode;
  message: string;
  /** The stack, mapped to the script's own source through its inline source map when it has one. */
  stack?: string;
  /** The `ActionError` payload (e.g. `{ message, issues }` of invalid input), or details of a limit. */
  payload?: unknown;
}

const known = new Set<string>(RUNTIME_ERROR_CODES);

/**
 * Tells whether `value` is one of {@link RUNTIME_ERROR_CODES}.
 * @param value - any value
 */
export function isRuntimeErrorCode(value: unknown): value is RuntimeErrorCode {
  return typeof value === 'string' && known.has(value);
}

/**
 * Normalises anything thrown at the isolate boundary into a {@link RunError}. Errors that carry a known
 * `code` keep it; everything else becomes `fallback`. Compares `code` and `message`, never `instanceof`.
 * @param thrown - the thrown value
 * @param fallback - the code to use when `thrown` has none
 */
export function toRunError(thrown: unknown, fallback: RuntimeErrorCode): RunError {
  if (typeof thrown === 'object' && thrown !== null) {
    const { code, message, stack, payload } = thrown as Record<string, unknown>;
    const error: RunError = {
      code: isRuntimeErrorCode(code) ? code : fallback,
      message: typeof message === 'string' ? message : 'Unknown error',
    };
    if (typeof stack === 'string') error.stack = stack;
    if (payload !== undefined) error.payload = payload;
    return error;
  }
  return { code: fallback, message: String(thrown) };
}
