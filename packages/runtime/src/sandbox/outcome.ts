import { isActionError, isSandboxError, sandboxError } from './errors.js';
import type { BootEnv, BootResult, SandboxLimits } from './ivm.js';
import { clip, jsonDeeperThan, jsonRefusal } from './json.js';
import { toPlain } from './plain.js';

const stringify = JSON.stringify;

/**
 * An error payload as JSON, within `max` characters and 64 levels: a larger or deeper one is replaced
 * by `{ message, truncated: true, reason }` (its own `message` kept when it is a string), so it never crosses
 * the boundary whole.
 */
function payloadJson(payload: unknown, max: number): string | undefined {
  if (payload === undefined) return undefined;
  let why: string;
  try {
    const json = stringify(toPlain(payload, 'script_runtime_error'));
    if (json === undefined || json.length <= max) return json;
    why = `The error payload is ${json.length} characters as JSON, more than ${max}`;
  } catch (error) {
    why = `The error payload is not JSON data: ${error instanceof Error ? clip(String(error.message), 200) : 'unknown'}`;
  }
  let message: unknown;
  try {
    message =
      typeof payload === 'object' && payload !== null
        ? (payload as Record<string, unknown>).message
        : undefined;
  } catch {
    message = undefined;
  }
  return stringify({
    message: typeof message === 'string' ? clip(message, max) : why,
    truncated: true,
    reason: why,
  });
}

function describe(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    return stringify(thrown) ?? String(thrown);
  } catch {
    return Object.prototype.toString.call(thrown);
  }
}

/**
 * Turns whatever a script threw into the error envelope the host reads, its message and stack cut to
 * `maxErrorBytes` and its payload bounded (see {@link payloadJson}) before anything is copied out.
 */
export function serializeError(
  thrown: unknown,
  kind: BootEnv['kind'],
  max: number,
): NonNullable<BootResult['error']> {
  const error = describeError(thrown, kind, max);
  error.message = clip(error.message, max);
  if (error.stack !== undefined) error.stack = clip(error.stack, max);
  return error;
}

function describeError(
  thrown: unknown,
  kind: BootEnv['kind'],
  max: number,
): NonNullable<BootResult['error']> {
  if (isSandboxError(thrown)) {
    return {
      code: thrown.code,
      message: thrown.message,
      stack: thrown.stack,
      payload: payloadJson(thrown.payload, max),
    };
  }
  if (isActionError(thrown)) {
    const code = kind === 'action' ? 'action_script_runtime_error' : 'script_runtime_error';
    return {
      code,
      message: String(thrown.message),
      stack: String(thrown.stack),
      payload: payloadJson(thrown.payload, max),
    };
  }
  if (thrown instanceof Error) {
    const message = String(thrown.message);
    let code = 'script_runtime_error';
    if (thrown instanceof RangeError && message.includes('Maximum call stack size exceeded'))
      code = 'stack_overflow';
    // isolated-vm refuses ArrayBuffer memory past the isolate's limit with this RangeError.
    if (thrown instanceof RangeError && message.includes('Array buffer allocation failed'))
      code = 'out_of_memory';
    // V8's cap on one string (2^29 characters) is hit by string-doubling bombs before the heap fills.
    if (thrown instanceof RangeError && message === 'Invalid string length') code = 'out_of_memory';
    return { code, message, stack: typeof thrown.stack === 'string' ? thrown.stack : undefined };
  }
  return { code: 'script_runtime_error', message: `Non-error thrown: ${describe(thrown)}` };
}

/**
 * Serialises an action's (or webhook's) return value to JSON in the isolate, within `maxOutputBytes`
 * (`output_too_large`) and `maxOutputDepth` levels (`output_too_deep`), so nothing larger or deeper
 * ever reaches the host, its IPC channel or its caller's serialiser.
 */
export function serializeOutput(value: unknown, limits: SandboxLimits): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw sandboxError('invalid_action_output', `An action cannot return a ${typeof value}`);
  }
  const depth = limits.maxOutputDepth;
  let json: string | undefined;
  try {
    json = stringify(value);
  } catch (error) {
    if (error instanceof RangeError && /call stack/.test(String(error.message)))
      throw sandboxError('output_too_deep', `The output is nested deeper than ${depth} levels`);
    throw sandboxError('invalid_action_output', `The output is not JSON data: ${jsonRefusal(error)}`);
  }
  if (json === undefined) return undefined;
  const max = limits.maxOutputBytes;
  if (json.length > max)
    throw sandboxError('output_too_large', `The output is ${json.length} bytes, more than ${max}`);
  if (jsonDeeperThan(json, depth))
    throw sandboxError('output_too_deep', `The output is nested deeper than ${depth} levels`);
  return json;
}
