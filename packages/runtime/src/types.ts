import type { RunError } from './errors.js';
import type { EnvironmentVariable, JsonValue, RuntimeHost } from './host.js';
import type { RunLimits } from './limits.js';

/** Which entry point of the bundle a run calls. */
export type RunKind = 'sync' | 'action' | 'webhook' | 'onEvent';

/** A providers.yaml `proxy.paginate` object (every field optional; a script's `paginate` overrides it). */
export interface PaginateConfig {
  type?: 'cursor' | 'link' | 'offset';
  limit?: number | string;
  limit_name_in_request?: string;
  response_path?: string;
  in_body?: boolean;
  cursor_path_in_response?: string;
  cursor_name_in_request?: string;
  link_rel_in_response_header?: string;
  link_path_in_response_body?: string;
  offset_name_in_request?: string;
  offset_start_value?: number;
  offset_calculation_method?: 'per-page' | 'by-response-size';
}

/** What the script may know about its provider without a host call. */
export interface ProviderInfo {
  /** The provider's name in providers.yaml, e.g. `github`. */
  name: string;
  proxy?: { paginate?: PaginateConfig };
}

/** Everything a script reads without a host call. */
export interface ScriptContext {
  connectionId: string;
  providerConfigKey: string;
  provider: ProviderInfo;
  environmentId?: number | string;
  environmentName?: string;
  activityLogId?: string;
  /** The start time of the last successful run of this sync (`nango.lastSyncDate`). */
  lastSyncDate?: Date | string | null;
  /** The sync variant, `base` by default. */
  variant?: string;
  /** The connection's metadata, as `nango.getMetadata()` returns it. */
  metadata?: Record<string, JsonValue> | null;
  /** When absent, `nango.getEnvironmentVariables()` asks the host. */
  environmentVariables?: EnvironmentVariable[];
  /** Passed through as `nango.syncConfig`. */
  syncConfig?: Record<string, JsonValue>;
}

/** One run of one script. */
export interface RunRequest {
  /** One CommonJS bundle as esbuild writes it (an inline source map is used for stack traces). */
  code: string;
  kind: RunKind;
  /** The action input or webhook payload (copied into the isolate). */
  input?: unknown;
  context: ScriptContext;
  host: RuntimeHost;
  /** Overrides of the runtime's limits for this run. */
  limits?: Partial<RunLimits>;
  /** Aborting ends the run with `run_aborted`. */
  signal?: AbortSignal;
}

/** What a run cost. */
export interface RunStats {
  /** CPU time spent in the isolate. */
  cpuMs: number;
  /** Time from the start of the run (after waiting for a free slot) to its end. */
  wallMs: number;
  /** Used heap of the isolate at the end of the run (0 when the isolate was discarded, not reused). */
  heapBytes: number;
  /** Calls made to the host (log flushes and timers included). */
  hostCalls: number;
}

/** The outcome of a run: `output` or `error`, and always `stats`. */
export interface RunResult {
  /** The action's (or webhook handler's) return value, as JSON data. */
  output?: unknown;
  error?: RunError;
  stats: RunStats;
}

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /** Heap limit of each isolate in MB (default 128). A run past it ends `out_of_memory`. */
  memoryLimitMb?: number;
  /**
   * Idle isolates kept warm (default: the number of cores). After a burst, up to 4× as many stay idle
   * until the pool has been quiet for 30 s: creating and disposing isolates under load grows RSS.
   */
  poolSize?: number;
  /** Runs executing at once; more wait for a slot (default 64). Each running script has its own isolate. */
  maxConcurrentRuns?: number;
  /** An isolate is replaced after this many runs (default 10,000), to bound heap growth. */
  maxRunsPerIsolate?: number;
  /** Overrides of the default limits, for every run. */
  limits?: Partial<RunLimits>;
}

/** A pool of isolates running scripts. */
export interface Runtime {
  /**
   * Runs one script to completion. Never rejects for anything the script does: failures are returned in
   * `error`. Rejects with a TypeError on a malformed request, or after `dispose()`.
   */
  run(request: RunRequest): Promise<RunResult>;
  /** Counts of the pool, for health checks and tests. */
  stats(): RuntimeStats;
  /** Disposes every isolate; running scripts end with `isolate_failure`. */
  dispose(): Promise<void>;
}

/** Counters of a {@link Runtime}. */
export interface RuntimeStats {
  /** Live isolates (idle and busy). */
  isolates: number;
  idle: number;
  busy: number;
  /** Runs waiting for a slot. */
  queued: number;
  runs: number;
  /** Isolates discarded instead of reused: after a limit breach, a crash, or work left pending by a script. */
  isolatesReplaced: number;
  /** Used heap of the idle isolates, in bytes. */
  idleHeapBytes: number;
  /** How scripts were compiled: from source, from V8's code cache (keyed by the code's sha256), or reused. */
  compiles: { fromSource: number; fromCodeCache: number; reused: number };
}
