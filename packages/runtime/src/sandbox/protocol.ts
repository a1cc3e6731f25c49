/**
 * Marks a refusal from the host dispatcher: the rejection's message is this prefix followed by
 * `{"code","message","fatal"}` as JSON. Any other rejection is an error the host method threw.
 */
export const ERROR_PREFIX = '\u0000ferry-refusal:';
