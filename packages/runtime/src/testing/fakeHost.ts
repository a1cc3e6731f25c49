import type {
  Checkpoint,
  HostProxyRequest,
  HostProxyResponse,
  LogLine,
  MergingStrategy,
  RuntimeHost,
  ScriptConnection,
  ScriptRecord,
} from '../host.js';
import type { JsonValue } from '../host.js';

/** A route of the fake provider API: answers one proxied request. */
export type FakeRoute = (request: HostProxyRequest) => HostProxyResponse | Promise<HostProxyResponse>;

/** An in-memory {@link RuntimeHost} for tests: records, metadata, checkpoint and logs kept in maps. */
export class FakeHost implements RuntimeHost {
  readonly records = new Map<string, Map<string, ScriptRecord>>();
  readonly requests: HostProxyRequest[] = [];
  readonly logs: LogLine[] = [];
  readonly calls: string[] = [];
  metadata: Record<string, JsonValue> = {};
  checkpoint: Checkpoint | null = null;
  merging = new Map<string, MergingStrategy>();
  connection: ScriptConnection = {
    connection_id: 'conn-1',
    provider_config_key: 'github',
    credentials: { type: 'OAUTH2', access_token: 'token-123' },
  };
  private readonly tracking = new Map<string, Set<string>>();

  constructor(private readonly route: FakeRoute = () => ({ status: 200, headers: {}, data: {} })) {}

  model(name: string): Map<string, ScriptRecord> {
    let model = this.records.get(name);
    if (!model) this.records.set(name, (model = new Map<string, ScriptRecord>()));
    return model;
  }

  async proxy(request: HostProxyRequest): Promise<HostProxyResponse> {
    this.calls.push('proxy');
    this.requests.push(request);
    return this.route(request);
  }
  async batchSave(model: string, records: ScriptRecord[]): Promise<void> {
    this.calls.push('batchSave');
    const store = this.model(model);
    for (const record of records) {
      store.set(String(record.id), record);
      this.tracking.get(model)?.add(String(record.id));
    }
  }
  async batchUpdate(model: string, records: ScriptRecord[]): Promise<void> {
    this.calls.push('batchUpdate');
    const store = this.model(model);
    for (const record of records)
      store.set(String(record.id), { ...store.get(String(record.id)), ...record });
  }
  async batchDelete(model: string, records: ScriptRecord[]): Promise<void> {
    this.calls.push('batchDelete');
    for (const record of records) this.model(model).delete(String(record.id));
  }
  async getRecordsByIds(model: string, ids: string[]): Promise<ScriptRecord[]> {
    this.calls.push('getRecordsByIds');
    const store = this.model(model);
    return ids.flatMap((id) => store.get(id) ?? []);
  }
  async listRecords(
    model: string,
    cursor: string | null,
  ): Promise<{ records: ScriptRecord[]; nextCursor: string | null }> {
    this.calls.push('listRecords');
    const all = [...this.model(model).values()];
    const start = cursor === null ? 0 : Number(cursor);
    const records = all.slice(start, start + 2);
    return { records, nextCursor: start + 2 < all.length ? String(start + 2) : null };
  }
  async setMetadata(metadata: Record<string, JsonValue>): Promise<void> {
    this.calls.push('setMetadata');
    this.metadata = metadata;
  }
  async updateMetadata(metadata: Record<string, JsonValue>): Promise<void> {
    this.calls.push('updateMetadata');
    this.metadata = { ...this.metadata, ...metadata };
  }
  async getConnection(): Promise<ScriptConnection> {
    this.calls.push('getConnection');
    return this.connection;
  }
  async getCheckpoint(): Promise<Checkpoint | null> {
    this.calls.push('getCheckpoint');
    return this.checkpoint;
  }
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.calls.push('saveCheckpoint');
    this.checkpoint = checkpoint;
  }
  async clearCheckpoint(): Promise<void> {
    this.calls.push('clearCheckpoint');
    this.checkpoint = null;
  }
  async trackDeletesStart(model: string): Promise<void> {
    this.calls.push('trackDeletesStart');
    this.tracking.set(model, new Set());
  }
  async trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }> {
    this.calls.push('trackDeletesEnd');
    const seen = this.tracking.get(model) ?? new Set();
    this.tracking.delete(model);
    const deletedKeys = [...this.model(model).keys()].filter((id) => !seen.has(id));
    for (const id of deletedKeys) this.model(model).delete(id);
    return { deletedKeys };
  }
  async setMergingStrategy(model: string, strategy: MergingStrategy): Promise<void> {
    this.calls.push('setMergingStrategy');
    this.merging.set(model, strategy);
  }
  async log(lines: LogLine[]): Promise<void> {
    this.calls.push('log');
    this.logs.push(...lines);
  }
  async getEnvironmentVariables(): Promise<{ name: string; value: string }[]> {
    this.calls.push('getEnvironmentVariables');
    return [{ name: 'FROM_HOST', value: '1' }];
  }
}

/** A context for tests. */
export const testContext = {
  connectionId: 'conn-1',
  providerConfigKey: 'github',
  provider: { name: 'github' },
} as const;
