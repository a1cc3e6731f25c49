// A tiny stand-in for the `nango` package, bundled into the fixtures as the CLI would bundle it:
// createSync / createAction / createOnEvent are identity helpers, ActionError a plain subclass.
import type { z } from 'zod';

export interface ProxyConfiguration {
  endpoint: string;
  method?: string;
  params?: string | Record<string, string | number>;
  headers?: Record<string, string>;
  data?: unknown;
  retries?: number;
  baseUrlOverride?: string;
  paginate?: Record<string, unknown>;
}
export interface ProxyResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  data: T;
}
export interface NangoAction {
  connectionId: string;
  providerConfigKey: string;
  proxy<T = any>(config: ProxyConfiguration): Promise<ProxyResponse<T>>;
  get<T = any>(config: ProxyConfiguration): Promise<ProxyResponse<T>>;
  post<T = any>(config: ProxyConfiguration): Promise<ProxyResponse<T>>;
  paginate<T = any>(config: ProxyConfiguration): AsyncGenerator<T[], undefined, void>;
  getMetadata<T = Record<string, any>>(): Promise<T>;
  setMetadata(metadata: Record<string, any>): Promise<void>;
  updateMetadata(metadata: Record<string, any>): Promise<void>;
  getConnection(): Promise<{ connection_config?: Record<string, any>; credentials: Record<string, any> }>;
  getToken(): Promise<unknown>;
  getEnvironmentVariables(): Promise<{ name: string; value: string }[] | null>;
  getCheckpoint<T = Record<string, string | number | boolean>>(): Promise<T | null>;
  saveCheckpoint(checkpoint: Record<string, string | number | boolean>): Promise<void>;
  log(...args: any[]): Promise<void>;
  zodValidateInput<T>(args: { zodSchema: z.ZodType<T>; input: unknown }): Promise<{ success: true; data: T }>;
}
export interface NangoSync extends NangoAction {
  lastSyncDate?: Date;
  variant: string;
  batchSave<T extends { id: string | number }>(records: T[], model: string): Promise<boolean>;
  batchUpdate<T extends { id: string | number }>(records: Partial<T>[], model: string): Promise<boolean>;
  batchDelete<T extends { id: string | number }>(records: T[], model: string): Promise<boolean>;
  getRecordsByIds<K = string, T = any>(ids: K[], model: string): Promise<Map<K, T>>;
  listRecords<T = any>(
    model: string,
    options?: { cursor?: string | null },
  ): AsyncGenerator<T[], undefined, void>;
  trackDeletesStart(model: string): Promise<void>;
  trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }>;
  deleteRecordsFromPreviousExecutions(model: string): Promise<{ deletedKeys: string[] }>;
  setMergingStrategy(
    merging: { strategy: 'override' | 'ignore_if_modified_after' },
    model: string,
  ): Promise<void>;
}

export class ActionError<T = Record<string, unknown>> extends Error {
  type = 'action_script_runtime_error';
  payload: T;
  constructor(payload: T) {
    super('Action failed');
    this.payload = payload;
  }
}

export function createSync<T extends { exec(nango: NangoSync): Promise<void> }>(config: T): T {
  return config;
}
export function createAction<T extends { exec(nango: NangoAction, input: any): Promise<unknown> }>(
  config: T,
): T {
  return config;
}
export function createOnEvent<T extends { exec(nango: NangoAction): Promise<void> }>(config: T): T {
  return config;
}
