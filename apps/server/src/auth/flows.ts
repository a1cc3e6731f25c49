import { setTimeout as sleep } from 'node:timers/promises';
import { hashSecret } from '../environments/service.js';
import type { Store } from '../store/store.js';
import { fromJson, nowIso, toIso, toJson } from '../store/values.js';
import { randomSecret } from './pkce.js';

/** How long a browser flow may take from its creation to its callback. */
export const FLOW_TTL_MS = 15 * 60 * 1000;

/** What a flow may do, fixed when it is created from a connect session (or a public key). */
export interface FlowContext {
  connectSessionId: number | null;
  endUserRowId: number | null;
  tags: Record<string, string>;
  /** Re-authorize this existing connection (row id) in place. */
  reconnectConnectionRowId: number | null;
  /** The connection id asked for (public-key callers), else a new one is made. */
  connectionId: string | null;
  connectionConfig: Record<string, unknown>;
  userScopes: string[];
  /** Extra authorize-URL params; `null` removes a template param. */
  authorizationParams: Record<string, string | null>;
  /** Replaces the integration's scopes when set (`connection_config.oauth_scopes_override`). */
  scopesOverride: string[] | null;
}

/** Where a flow stands. */
export type FlowStatus = 'created' | 'redirected' | 'success' | 'error';

/** The outcome the SDK gets by postMessage or by long-poll. */
export type FlowOutcome =
  | { status: 'expired' }
  /** `started`: the popup reached the server and went on to the provider. */
  | { status: 'pending'; started: boolean }
  | { status: 'success'; connection_id: string }
  | { status: 'error'; error: { code: string; message: string } };

/** How a flow ended. */
export type FinalOutcome = Extract<FlowOutcome, { status: 'success' | 'error' }>;

/** A stored flow. */
export interface Flow {
  id: string;
  environmentId: number;
  providerConfigKey: string;
  origin: string | null;
  context: FlowContext;
  status: FlowStatus;
  expiresAt: string;
}

/** The browser auth flows: one row per popup, so any server process can hand out its result. */
export class FlowStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Creates a flow; returns its id and the secret that reads its result (only a hash is kept). */
  async create(input: {
    environmentId: number;
    providerConfigKey: string;
    origin: string | null;
    context: FlowContext;
  }): Promise<{ id: string; secret: string; expiresAt: string }> {
    const id = randomSecret(16);
    const secret = `ferry_flow_${randomSecret(32)}`;
    const now = nowIso();
    const expiresAt = new Date(Date.now() + FLOW_TTL_MS).toISOString();
    await this.#store.db
      .insertInto('auth_flows')
      .values({
        id,
        secret_hash: hashSecret(secret),
        environment_id: input.environmentId,
        provider_config_key: input.providerConfigKey,
        origin: input.origin,
        context: toJson(input.context) ?? '{}',
        status: 'created',
        result: null,
        expires_at: expiresAt,
        created_at: now,
        updated_at: now,
      })
      .execute();
    // Old flows are useless; clear them as new ones come.
    await this.#store.db.deleteFrom('auth_flows').where('expires_at', '<', now).execute();
    return { id, secret, expiresAt };
  }

  /** Reads a flow that has not expired, or undefined. */
  async get(id: string): Promise<Flow | undefined> {
    const row = await this.#store.db
      .selectFrom('auth_flows')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || new Date(toIso(row.expires_at)).getTime() <= Date.now()) return undefined;
    return {
      id: row.id,
      environmentId: row.environment_id,
      providerConfigKey: row.provider_config_key,
      origin: row.origin,
      context: fromJson<FlowContext>(row.context),
      status: row.status as FlowStatus,
      expiresAt: toIso(row.expires_at),
    };
  }

  /** Marks a created flow as sent to the provider; false when it was already started (a flow starts once). */
  async markRedirected(id: string): Promise<boolean> {
    const res = await this.#store.db
      .updateTable('auth_flows')
      .set({ status: 'redirected', updated_at: nowIso() })
      .where('id', '=', id)
      .where('status', '=', 'created')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Records the flow's outcome (only the first one counts). */
  async finish(id: string, outcome: FinalOutcome): Promise<void> {
    await this.#store.db
      .updateTable('auth_flows')
      .set({ status: outcome.status, result: toJson(outcome), updated_at: nowIso() })
      .where('id', '=', id)
      .where('status', 'in', ['created', 'redirected'])
      .execute();
  }

  /**
   * Waits up to `waitMs` for the flow to end, reading the database (so the process that ran the callback need
   * not be this one). Undefined when the id or the secret is wrong.
   */
  async wait(
    id: string,
    secret: string,
    opts: { waitMs: number; signal?: AbortSignal; pollMs?: number },
  ): Promise<(FlowOutcome & { provider_config_key: string; expires_at: string }) | undefined> {
    const deadline = Date.now() + opts.waitMs;
    for (;;) {
      const row = await this.#store.db
        .selectFrom('auth_flows')
        .select(['secret_hash', 'status', 'result', 'expires_at', 'provider_config_key'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row || row.secret_hash !== hashSecret(secret)) return undefined;
      const base = { provider_config_key: row.provider_config_key, expires_at: toIso(row.expires_at) };
      if (row.status === 'success' || row.status === 'error')
        return { ...fromJson<FlowOutcome>(row.result), ...base };
      if (new Date(base.expires_at).getTime() <= Date.now()) return { status: 'expired', ...base };
      if (Date.now() >= deadline || opts.signal?.aborted) {
        return { status: 'pending', started: row.status === 'redirected', ...base };
      }
      await sleep(opts.pollMs ?? 200, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  }
}
