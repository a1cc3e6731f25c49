export { Ferry, type FerryOptions } from './client.js';
export { ClientErrorCode, FerryError, isFerryError, type FerryErrorInit, type FieldError } from './errors.js';
export type * from './types.js';
