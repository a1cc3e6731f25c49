/** The few isolated-vm shapes the in-isolate code uses (the real types live in the host's `isolated-vm`). */
export interface HostReference {
  /** Called with `[op, argsJson, logs | null, bytes | null]`. */
  apply(
    receiver: undefined,
    args: [string, string, unknown[] | null, Uint8Array | null],
    options: { arguments: { copy: true }; result: { promise: true; copy: true } },
  ): Promise<unknown>;
}

/** The limits the isolate side needs (the host enforces them again). */
export interface SandboxLimits {
  maxLogLineBytes: number;
  maxLogLines: number;
  maxHostCallsInFlight: number;
  maxRecordsPerBatch: number;
  recordsPerHostCall: number;
  maxOutputBytes: number;
  maxOutputDepth: number;
  maxHostCallBytes: number;
  maxErrorBytes: number;
  maxTimers: number;
}

/** Everything the host copies in at boot. */
export interface BootEnv {
  kind: 'sync' | 'action' | 'webhook' | 'onEvent';
  input: unknown;
  context: {
    connectionId: string;
    providerConfigKey: string;
    provider: { name: string; proxy?: { paginate?: Record<string, unknown> } };
    environmentId?: number | string;
    environmentName?: string;
    activityLogId?: string;
    lastSyncDate?: string | null;
    variant?: string;
    metadata?: Record<string, unknown> | null;
    environmentVariables?: { name: string; value: string }[];
    syncConfig?: Record<string, unknown>;
  };
  limits: SandboxLimits;
  /** 32 random bytes from the host: the seed of crypto.getRandomValues. */
  seed: Uint8Array;
}

/** What boot resolves with. */
export interface BootResult {
  ok: boolean;
  /** The output as a JSON string (undefined output stays undefined). */
  output?: string;
  error?: { code: string; message: string; stack?: string; payload?: string };
  /** Log lines not flushed yet. */
  logs: unknown[];
}
