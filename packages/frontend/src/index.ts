export { Ferry, type AuthCredentials, type AuthOptions, type FerryOptions } from './client.js';
export { AuthError, AuthErrorCode, isAuthError } from './errors.js';
export {
  assertCallbackMessage,
  assertFlowResult,
  type CallbackMessage,
  type ErrorMessage,
  type FlowResult,
  type SuccessMessage,
} from './messages.js';
export type { AuthResult } from './popup.js';
