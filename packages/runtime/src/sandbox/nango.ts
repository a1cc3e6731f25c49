import type { Bridge } from './bridge.js';
import { ActionError, sandboxError } from './errors.js';
import { formatArgs } from './format.js';
import type { BootEnv } from './ivm.js';
import { paginate, type Paginate } from './paginate.js';
import { isPlainObject, toPlain } from './plain.js';
import { toHostRequest, type ProxyConfig, type ProxyResponse } from './proxy.js';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const CONNECTION_TTL_MS = 60_000;

/** What a nango object holds out of the script's reach (a WeakMap, not properties a script could read). */
export interface Internals {
  bridge: Bridge;
  env: BootEnv;
  metadata: Record<string, unknown> | null;
  connections: Map<string, { at: number; value: Promise<unknown> }>;
}
const internals = new WeakMap<object, Internals>();

/** The internals of a nango object; a TypeError for anything else (a method called on another receiver). */
export function internalsOf(nango: object): Internals {
  const found = internals.get(nango);
  if (!found) throw new TypeError('Illegal invocation');
  return found;
}

/** Nango's NangoAction, as scripts use it: proxy, connection, metadata, checkpoints, logs. */
export class NangoAction {
  readonly connectionId: string;
  readonly providerConfigKey: string;
  readonly provider: string;
  readonly environmentId: number | string | undefined;
  readonly environmentName: string | undefined;
  readonly activityLogId: string | undefined;
  readonly syncConfig: Record<string, unknown> | undefined;
  readonly abortSignal = { aborted: false };
  readonly ActionError = ActionError;

  constructor(bridge: Bridge, env: BootEnv) {
    internals.set(this, { bridge, env, metadata: env.context.metadata ?? null, connections: new Map() });
    const c = env.context;
    this.connectionId = c.connectionId;
    this.providerConfigKey = c.providerConfigKey;
    this.provider = c.provider.name;
    this.environmentId = c.environmentId;
    this.environmentName = c.environmentName;
    this.activityLogId = c.activityLogId;
    this.syncConfig = c.syncConfig;
  }

  /** Sends a request through the host's proxy; a status ≥ 400 throws an AxiosError-like error. */
  proxy<T = unknown>(config: ProxyConfig): Promise<ProxyResponse & { data: T }> {
    return this.send(config, undefined) as Promise<ProxyResponse & { data: T }>;
  }
  get<T = unknown>(config: ProxyConfig): Promise<ProxyResponse & { data: T }> {
    return this.send(config, 'GET') as Promise<ProxyResponse & { data: T }>;
  }
  post<T = unknown>(config: ProxyConfig): Promise<ProxyResponse & { data: T }> {
    return this.send(config, 'POST') as Promise<ProxyResponse & { data: T }>;
  }
  put<T = unknown>(config: ProxyConfig): Promise<ProxyResponse & { data: T }> {
    return this.send(config, 'PUT') as Promise<ProxyResponse & { data: T }>;
  }
  patch<T = unknown>(config: ProxyConfig): Promise<ProxyResponse & { data: T }> {
    return this.send(config, 'PATCH') as Promise<ProxyResponse & { data: T }>;
  }
  delete<T = unknown>(config: ProxyConfig): Promise<ProxyResponse & { data: T }> {
    return this.send(config, 'DELETE') as Promise<ProxyResponse & { data: T }>;
  }

  // Not async, to keep promise hops off the hot path; a TypeError on misuse still becomes a rejection.
  private send(config: ProxyConfig, method: string | undefined): Promise<ProxyResponse> {
    let request: Record<string, unknown>;
    try {
      request = toHostRequest(config, method);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new TypeError(String(error)));
    }
    return internalsOf(this).bridge.call('proxy', [request], request) as Promise<ProxyResponse>;
  }

  /** Yields pages of `config.endpoint`, with the provider's `proxy.paginate` defaults merged in. */
  paginate<T = unknown>(config: ProxyConfig): AsyncGenerator<T[], undefined, void> {
    const defaults = internalsOf(this).env.context.provider.proxy?.paginate as Paginate | undefined;
    return paginate<T>((c) => this.proxy(c), config, defaults);
  }

  /** Reads a connection (the run's own by default), memoised for 60 s. */
  async getConnection(
    providerConfigKey?: string,
    connectionId?: string,
    options?: Record<string, unknown>,
  ): Promise<unknown> {
    const request: Record<string, unknown> = {};
    if (providerConfigKey) request.providerConfigKey = providerConfigKey;
    if (connectionId) request.connectionId = connectionId;
    for (const key of ['forceRefresh', 'refreshToken', 'refreshGithubAppJwtToken']) {
      if (options?.[key] === true) request[key] = true;
    }
    const key = `${providerConfigKey ?? ''}\n${connectionId ?? ''}`;
    const { bridge, connections } = internalsOf(this);
    const hit = connections.get(key);
    if (hit && !request.forceRefresh && Date.now() - hit.at < CONNECTION_TTL_MS) return hit.value;
    const value = bridge.call('getConnection', [request]);
    connections.set(key, { at: Date.now(), value });
    value.catch(() => connections.delete(key));
    return value;
  }

  /** The access token (OAuth 2), or the credentials object of other auth modes. */
  async getToken(): Promise<unknown> {
    const { credentials } = (await this.getConnection()) as { credentials: Record<string, unknown> };
    switch (credentials.type) {
      case 'OAUTH2':
      case 'APP':
      case 'OAUTH2_CC':
      case 'JWT':
      case 'TWO_STEP':
      case 'CUSTOM':
        return credentials.access_token ?? credentials.token;
      case 'OAUTH1':
        return { oAuthToken: credentials.oauth_token, oAuthTokenSecret: credentials.oauth_token_secret };
      case 'BASIC':
        return { username: credentials.username, password: credentials.password };
      case 'API_KEY':
        return { apiKey: credentials.apiKey };
      default:
        return credentials.access_token ?? credentials;
    }
  }

  async getMetadata<T = Record<string, unknown>>(): Promise<T> {
    return (internalsOf(this).metadata ?? {}) as T;
  }
  async setMetadata(metadata: Record<string, unknown>): Promise<void> {
    const plain = this.plainObject(metadata, 'setMetadata');
    await internalsOf(this).bridge.call('setMetadata', [plain]);
    internalsOf(this).metadata = plain;
  }
  async updateMetadata(metadata: Record<string, unknown>): Promise<void> {
    const plain = this.plainObject(metadata, 'updateMetadata');
    await internalsOf(this).bridge.call('updateMetadata', [plain]);
    const inner = internalsOf(this);
    inner.metadata = { ...inner.metadata, ...plain };
  }

  async getEnvironmentVariables(): Promise<{ name: string; value: string }[] | null> {
    return (
      internalsOf(this).env.context.environmentVariables ??
      ((await internalsOf(this).bridge.call('getEnvironmentVariables', [])) as {
        name: string;
        value: string;
      }[])
    );
  }

  async getCheckpoint<T = Record<string, string | number | boolean>>(): Promise<T | null> {
    return (await internalsOf(this).bridge.call('getCheckpoint', [])) as T | null;
  }
  async saveCheckpoint(checkpoint: Record<string, string | number | boolean>): Promise<void> {
    if (!isPlainObject(checkpoint))
      throw sandboxError('invalid_checkpoint', 'A checkpoint must be a flat object');
    const flat: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(checkpoint)) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw sandboxError(
          'invalid_checkpoint',
          `Checkpoint field "${key}" must be a string, a number or a boolean`,
        );
      }
      flat[key] = value;
    }
    await internalsOf(this).bridge.call('saveCheckpoint', [flat]);
  }
  async clearCheckpoint(): Promise<void> {
    await internalsOf(this).bridge.call('clearCheckpoint', []);
  }

  /** `log(...args)`, with an optional last argument `{ level }`. Lines are batched to the host. */
  async log(...args: unknown[]): Promise<void> {
    let level: Level = 'info';
    const last = args[args.length - 1];
    if (
      args.length > 1 &&
      isPlainObject(last) &&
      Object.keys(last).length === 1 &&
      LEVELS.has(last.level as string)
    ) {
      level = last.level as Level;
      args = args.slice(0, -1);
    }
    internalsOf(this).bridge.log(level, formatArgs(args));
  }
  setLogger(): void {}

  /**
   * Parses `input` with a zod schema. Invalid input fails as in Nango: each issue is logged at level
   * error, then an `ActionError` with the message "Invalid input provided" is thrown, its payload
   * `{ message, issues }` carrying the zod issues.
   */
  async zodValidateInput<T>({
    zodSchema,
    input,
  }: {
    zodSchema: { safeParse(v: unknown): { success: boolean; data?: T; error?: { issues: unknown } } };
    input: unknown;
  }): Promise<{ success: true; data: T }> {
    const parsed = zodSchema.safeParse(input);
    if (!parsed.success) {
      const raw = toPlain(parsed.error?.issues, 'script_runtime_error');
      const issues = Array.isArray(raw) ? (raw as { message?: unknown; path?: unknown }[]) : [];
      const { bridge } = internalsOf(this);
      for (const issue of issues) {
        const path = Array.isArray(issue?.path) ? issue.path.join('.') : '';
        bridge.log('error', `Invalid input provided: ${String(issue?.message)} at path ${path}`);
      }
      throw new ActionError({ message: 'Invalid input provided', issues });
    }
    return { success: true, data: parsed.data as T };
  }

  protected plainObject(value: unknown, method: string): Record<string, unknown> {
    if (!isPlainObject(value)) throw new TypeError(`${method}: expected an object`);
    return toPlain(value, 'script_runtime_error') as Record<string, unknown>;
  }
}
