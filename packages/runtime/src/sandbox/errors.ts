const internal = new WeakSet<object>();

/** An error raised by the sandbox itself; only these may carry a runtime error code. */
export interface SandboxError extends Error {
  code: string;
  payload?: unknown;
}

/** Creates an error whose `code` the host will trust. */
export function sandboxError(code: string, message: string, payload?: unknown): SandboxError {
  const error = new Error(message) as SandboxError;
  error.code = code;
  if (payload !== undefined) error.payload = payload;
  internal.add(error);
  return error;
}

/** Tells whether `value` was made by {@link sandboxError}. */
export function isSandboxError(value: unknown): value is SandboxError {
  return typeof value === 'object' && value !== null && internal.has(value);
}

/** Nango's ActionError: an action's deliberate failure, whose payload reaches the caller intact. */
export class ActionError<T = Record<string, unknown>> extends Error {
  type = 'action_script_runtime_error';
  payload: T | undefined;
  constructor(payload?: T) {
    const message = (payload as { message?: unknown } | undefined)?.message;
    super(typeof message === 'string' ? message : 'Action failed');
    this.name = 'ActionError';
    this.payload = payload;
  }
}

/** Tells an ActionError, from this sandbox or a bundled copy of the class (duck-typed). */
export function isActionError(
  value: unknown,
): value is { message: string; payload?: unknown; stack?: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { type, name } = value as { type?: unknown; name?: unknown };
  return type === 'action_script_runtime_error' || name === 'ActionError';
}
