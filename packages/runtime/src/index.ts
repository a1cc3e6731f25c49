export { createRuntime } from './runtime.js';
export { createProcessRuntime } from './processRuntime.js';
export type { ProcessRuntime, ProcessRuntimeOptions, ProcessRuntimeStats } from './processRuntime.js';
export { RUNTIME_ERROR_CODES, isRuntimeErrorCode, toRunError } from './errors.js';
export type { RunError, RuntimeErrorCode } from './errors.js';
export { defaultLimits, resolveLimits } from './limits.js';
export type { RunLimits } from './limits.js';
export type {
  Checkpoint,
  EnvironmentVariable,
  GetConnectionRequest,
  HostProxyRequest,
  HostProxyResponse,
  JsonValue,
  LogLine,
  MergingStrategy,
  RecordsPage,
  RuntimeHost,
  ScriptConnection,
  ScriptRecord,
} from './host.js';
export type {
  PaginateConfig,
  ProviderInfo,
  RunKind,
  RunRequest,
  RunResult,
  RunStats,
  Runtime,
  RuntimeOptions,
  RuntimeStats,
  ScriptContext,
} from './types.js';
