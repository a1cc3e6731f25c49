export { Ferry } from './client.js';
export { DEFAULT_TIMEOUT_MS, type FerryOptions } from './options.js';
export { ClientErrorCode, FerryError, isFerryError, type FerryErrorInit, type FieldError } from './errors.js';
export type * from './types.js';
export type { ProxyConfiguration, ProxyMethod, ProxyResponse } from './proxy.js';
