/**
 * Asserts an argument is a non-empty string.
 * @param name - The argument's name, for the message.
 * @param value - The argument.
 * @throws TypeError if it is not.
 */
export function assertString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`"${name}" must be a non-empty string`);
  }
}

/**
 * Asserts an argument is a plain object (not `null`, not an array).
 * @param name - The argument's name, for the message.
 * @param value - The argument.
 * @throws TypeError if it is not.
 */
export function assertObject(name: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`"${name}" must be an object`);
  }
}

/**
 * Asserts an optional argument is absent or a plain object.
 * @param name - The argument's name, for the message.
 * @param value - The argument.
 * @throws TypeError if it is present and not a plain object.
 */
export function assertOptionalObject(name: string, value: unknown): asserts value is object | undefined {
  if (value !== undefined) assertObject(name, value);
}

/**
 * Asserts a connection id argument is a non-empty string or a non-empty array of them.
 * @param name - The argument's name, for the message.
 * @param value - The argument.
 * @throws TypeError if it is not.
 */
export function assertConnectionIds(name: string, value: unknown): asserts value is string | string[] {
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((id) => typeof id === 'string' && id !== '')) {
      throw new TypeError(`"${name}" must be a non-empty string or a non-empty array of them`);
    }
    return;
  }
  assertString(name, value);
}

/**
 * Asserts a bearer token argument is a non-empty string that can go into an HTTP header (no whitespace or
 * control characters). The token itself never appears in the message.
 * @param name - The argument's name, for the message.
 * @param value - The argument.
 * @throws TypeError if it is not.
 */
export function assertToken(name: string, value: unknown): asserts value is string {
  assertString(name, value);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new TypeError(`"${name}" must not contain whitespace or control characters`);
  }
}
