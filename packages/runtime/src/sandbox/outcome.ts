import { isActionError, isSandboxError, sandboxError } from './errors.js';
import type { BootEnv, BootResult } from './ivm.js';
import { toPlain } from './plain.js';

const stringify = JSON.stringify;

function payloadJson(payload: unknown): string | undefined {
  if (payload === undefined) return undefined;
  try {
    return stringify(toPlain(payload, 'script_runtime_error'));
  } catch {
    return undefined;
  }
}

function describe(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    return stringify(thrown) ?? String(thrown);
  } catch {
    return Object.prototype.toString.call(thrown);
  }
}

/** Turns whatever a script threw into the error envelope the host reads. */
export function serializeError(thrown: unknown, kind: BootEnv['kind']): NonNullable<BootResult['error']> {
  if (isSandboxError(thrown)) {
    return {
      code: thrown.code,
      message: thrown.message,
      stack: thrown.stack,
      payload: payloadJson(thrown.payload),
    };
  }
  if (isActionError(thrown)) {
    const code = kind === 'action' ? 'action_script_runtime_error' : 'script_runtime_error';
    return {
      code,
      message: String(thrown.message),
      stack: String(thrown.stack),
      payload: payloadJson(thrown.payload),
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

/** Serialises an action's (or webhook's) return value to JSON, within `maxOutputBytes`. */
export function serializeOutput(value: unknown, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw sandboxError('invalid_action_output', `An action cannot return a ${typeof value}`);
  }
  let json: string | undefined;
  try {
    json = stringify(value);
  } catch (error) {
    throw sandboxError(
      'invalid_action_output',
      `The output is not JSON data: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (json === undefined) return undefined;
  if (json.length > max)
    throw sandboxError('output_too_large', `The output is ${json.length} bytes, more than ${max}`);
  return json;
}
