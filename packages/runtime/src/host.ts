/**
 * The host side of a run: everything a script reaches outside its isolate goes through this
 * interface, one call per page, batch or log flush. The server implements it; tests use a fake.
 */

/** A JSON-compatible value, as it crosses the isolate boundary. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A record written by a script: a plain JSON object with a string or number `id`. */
export interface ScriptRecord {
  id: string | number;
  [key: string]: JsonValue;
}

/** One outgoing request of `nango.proxy` (and `get`, `post`, …, `paginate`), already normalised. */
export interface HostProxyRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  endpoint: string;
  params?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  /** A JSON value, a string, or bytes. */
  data?: JsonValue | Uint8Array;
  baseUrlOverride?: string;
  retries?: number;
  retryOn?: number[];
  retryHeader?: { at?: string; after?: string };
  responseType?: 'json' | 'text' | 'arraybuffer' | 'stream' | 'blob' | 'document';
  decompress?: boolean;
  /** Another connection than the run's own, when the script names one. */
  connectionId?: string;
  providerConfigKey?: string;
}

/** The provider's answer. A status ≥ 400 is returned, not thrown: the isolate raises it like axios. */
export interface HostProxyResponse {
  status: number;
  headers: Record<string, string>;
  data: unknown;
}

/** One log line, as batched to {@link RuntimeHost.log}. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** Milliseconds since the epoch, taken inside the isolate. */
  timestamp: number;
  /** True when the message was cut to the `maxLogLineBytes` limit. */
  truncated?: boolean;
}

/** The connection as `nango.getConnection()` returns it (Nango's shape; credentials included). */
export interface ScriptConnection {
  id?: number | string;
  connection_id: string;
  provider_config_key: string;
  provider?: string;
  credentials: Record<string, unknown>;
  connection_config?: Record<string, unknown>;
  metadata?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** Arguments of `nango.getConnection(providerConfigKey?, connectionId?, options?)`. */
export interface GetConnectionRequest {
  providerConfigKey?: string;
  connectionId?: string;
  forceRefresh?: boolean;
  refreshToken?: boolean;
  refreshGithubAppJwtToken?: boolean;
}

/** A checkpoint is flat: string, number or boolean values only. */
export type Checkpoint = Record<string, string | number | boolean>;

/** A page of {@link RuntimeHost.listRecords}. */
export interface RecordsPage {
  records: ScriptRecord[];
  nextCursor: string | null;
}

/** How `batchSave` merges into records changed since the run started. */
export type MergingStrategy = 'override' | 'ignore_if_modified_after';

/** A named environment variable of the script's environment. */
export interface EnvironmentVariable {
  name: string;
  value: string;
}

/**
 * What the runtime needs from the server for one run. At most `maxHostCallsInFlight` calls (log
 * excepted) are pending at once per run; a method that throws surfaces in the script as an error with
 * code `host_error` (its message is passed on as is, so redact secrets before throwing). What a method
 * returns is copied into the isolate, so it must be plain data (no functions). A call's arguments left
 * the isolate as JSON text of at most `maxHostCallBytes` (a proxy body of bytes beside it, counted in),
 * measured before the copy. Records arrive as plain JSON data (as `JSON.stringify` makes them: Dates as
 * ISO strings, `undefined` and functions dropped, nested at most 64 levels), at most `recordsPerHostCall`
 * per call, each with an `id`. `run()` waits for the last `log` call to settle before it returns.
 */
export interface RuntimeHost {
  /** Sends one HTTP request through the proxy with the connection's credentials. */
  proxy(request: HostProxyRequest): Promise<HostProxyResponse>;
  /**
   * Upserts records of `model`. `texts`, when given, holds each record's JSON text as the script encoded it (same
   * order; each one checked to be exactly the JSON object the record was parsed from), so the host can hash and
   * store it without serialising the record again.
   */
  batchSave(model: string, records: ScriptRecord[], texts?: string[]): Promise<void>;
  /** Deep-merges partial records into existing records of `model` (`texts` as for `batchSave`). */
  batchUpdate(model: string, records: ScriptRecord[], texts?: string[]): Promise<void>;
  /** Soft-deletes records of `model` (`texts` as for `batchSave`). */
  batchDelete(model: string, records: ScriptRecord[], texts?: string[]): Promise<void>;
  /** Returns the stored records of `model` among `ids` (at most 100 ids per call); missing ids are left out. */
  getRecordsByIds(model: string, ids: string[]): Promise<ScriptRecord[]>;
  /**
   * One page of the stored records of `model` in change order (as `GET /records` answers them, each with its
   * `_nango_metadata`), after `cursor` (from the start when null); `nextCursor` is null on the last page.
   */
  listRecords(model: string, cursor: string | null): Promise<RecordsPage>;
  /** Replaces the connection's metadata. */
  setMetadata(metadata: Record<string, JsonValue>): Promise<void>;
  /** Shallow-merges into the connection's metadata. */
  updateMetadata(metadata: Record<string, JsonValue>): Promise<void>;
  /** Reads a connection with fresh credentials (the run's own when no ids are given). */
  getConnection(request: GetConnectionRequest): Promise<ScriptConnection>;
  /** Reads this script's checkpoint, or null. */
  getCheckpoint(): Promise<Checkpoint | null>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  clearCheckpoint(): Promise<void>;
  /** Starts delete tracking of `model` for this run. */
  trackDeletesStart(model: string): Promise<void>;
  /** Ends delete tracking of `model`: records not saved since the start are deleted. */
  trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }>;
  setMergingStrategy(model: string, strategy: MergingStrategy): Promise<void>;
  /** Receives log lines in batches, in order. */
  log(lines: LogLine[]): Promise<void>;
  /** Only called when the run's context has no `environmentVariables`. */
  getEnvironmentVariables(): Promise<EnvironmentVariable[]>;
}
