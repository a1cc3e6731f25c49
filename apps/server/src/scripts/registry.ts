import { createHash, randomUUID } from 'node:crypto';
import type { Insertable, Selectable, Transaction } from 'kysely';
import type { ConnectionService } from '../connections/service.js';
import { FerryError } from '../errors.js';
import type { IntegrationService } from '../integrations/service.js';
import type { Logger } from '../logger.js';
import type { ActivityLogWriter } from '../logs/writer.js';
import type { Database, ScriptVersionsTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { fromJson, isUniqueViolation, nowIso, toIso, toJson } from '../store/values.js';
import {
  keyOf,
  planDeploy,
  type IncomingScript,
  type NangoPlan,
  type Plan,
  type ScriptKey,
  type ScriptType,
  type StoredScript,
  withoutRemovals,
} from './plan.js';
import type { DeployBody, FlowConfig } from './schemas.js';

/** How long a deploy may hold its environment's lock before another deploy may take it over. */
const LOCK_TTL_MS = 5 * 60_000;

/** An endpoint of a script, in Nango's v2 form. */
export interface ScriptEndpoint {
  method: string;
  path: string;
  group?: string;
}

/** One deployed version of a script, everything but its bundle text. */
export interface ScriptVersion {
  id: number;
  scriptId: number;
  integration: string;
  integrationId: number;
  type: ScriptType;
  name: string;
  version: string;
  /** sha256 (hex) of the bundle: the runtime's code-cache key. */
  bundleHash: string;
  event: string | null;
  runs: string | null;
  autoStart: boolean;
  syncType: 'full' | 'incremental' | null;
  trackDeletes: boolean;
  description: string | null;
  inputModel: string | null;
  outputModel: string | null;
  models: string[];
  modelsJsonSchema: { definitions: Record<string, unknown> } | null;
  endpoints: ScriptEndpoint[];
  scopes: string[];
  webhookSubscriptions: string[];
  features: string[];
  attributes: Record<string, unknown> | null;
  sdkVersion: string | null;
  deployedAt: string;
  enabled: boolean;
}

/** A script reference in a change event. */
export interface ScriptRef extends ScriptKey {
  environmentId: number;
  scriptId: number;
}

/** What a deploy or a rollback changed; the sync engine starts and stops work from it. */
export interface ScriptsChange {
  environmentId: number;
  /** New scripts and scripts with a new current version. */
  deployed: (ScriptRef & { versionId: number; previousVersionId: number | null })[];
  /** Scripts the deploy removed. */
  deleted: ScriptRef[];
}

/** A listener of {@link ScriptRegistry.onScriptsChanged}. */
export type ScriptsChangeListener = (change: ScriptsChange) => void | Promise<void>;

/** One element of `POST /sync/deploy`'s answer (Nango's `SyncDeploymentResult`). */
export interface DeploymentResult {
  name: string;
  version: string;
  providerConfigKey: string;
  type: 'sync' | 'action';
  last_deployed: string;
  input: string | null;
  models: string[];
  id: number;
  runs: string | null;
}

/** A script of a deploy body, resolved and ready to store. */
interface Prepared extends IncomingScript {
  integrationId: number;
  /** The version the body asks for; empty means "pick the next one". */
  askedVersion: string;
  js: string;
  bundleHash: string;
  row: Omit<Insertable<ScriptVersionsTable>, 'script_id' | 'version' | 'deployed_at' | 'fingerprint'>;
}

/** The scripts of a deploy body, resolved, and the connection counts the plan shows. */
interface Preparation {
  prepared: Map<string, Prepared>;
  connections: Map<string, number>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The sha256 (hex) of a bundle: the same key `@ferry/runtime`'s code cache uses, so a bundle compiles once. */
export const bundleHash = sha256;

function normaliseEndpoints(list: FlowConfig['endpoints']): ScriptEndpoint[] {
  const out: ScriptEndpoint[] = [];
  for (const e of list ?? []) {
    if ('method' in e && 'path' in e && typeof e.path === 'string') {
      out.push(
        e.group ? { method: e.method, path: e.path, group: e.group } : { method: e.method, path: e.path },
      );
    } else {
      for (const [method, path] of Object.entries(e))
        if (typeof path === 'string') out.push({ method, path });
    }
  }
  return out;
}

/** The next version after `previous` when the body gives none: the patch number bumped. */
function nextVersion(previous: string | undefined): string {
  if (!previous) return '0.0.1';
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(previous);
  return m ? `${m[1]}.${m[2]}.${Number(m[3]) + 1}` : `${previous}.1`;
}

type VersionRow = Selectable<ScriptVersionsTable> & {
  integration: string;
  integration_id: number;
  type: string;
  name: string;
  enabled: number;
};

function toVersion(r: VersionRow): ScriptVersion {
  return {
    id: r.id,
    scriptId: r.script_id,
    integration: r.integration,
    integrationId: r.integration_id,
    type: r.type as ScriptType,
    name: r.name,
    version: r.version,
    bundleHash: r.bundle_hash,
    event: r.event,
    runs: r.runs,
    autoStart: r.auto_start === 1,
    syncType: r.sync_type as ScriptVersion['syncType'],
    trackDeletes: r.track_deletes === 1,
    description: r.description,
    inputModel: r.input_model,
    outputModel: r.output_model,
    models: fromJson<string[]>(r.models),
    modelsJsonSchema: fromJson<ScriptVersion['modelsJsonSchema']>(r.models_json_schema),
    endpoints: fromJson<ScriptEndpoint[]>(r.endpoints),
    scopes: fromJson<string[]>(r.scopes),
    webhookSubscriptions: fromJson<string[]>(r.webhook_subscriptions),
    features: fromJson<string[]>(r.features),
    attributes: fromJson<Record<string, unknown> | null>(r.attributes),
    sdkVersion: r.sdk_version,
    deployedAt: toIso(r.deployed_at),
    enabled: r.enabled === 1,
  };
}

/**
 * The script registry: per environment and integration, the syncs, actions and on-event scripts deployed with
 * `nango deploy` (or `ferry deploy`), every version of each kept, bundles stored once per content hash.
 */
export class ScriptRegistry {
  readonly #store: Store;
  readonly #integrations: IntegrationService;
  readonly #connections: ConnectionService;
  readonly #activity: ActivityLogWriter;
  readonly #logger: Logger;
  readonly #listeners = new Set<ScriptsChangeListener>();

  constructor(deps: {
    store: Store;
    integrations: IntegrationService;
    connections: ConnectionService;
    activity: ActivityLogWriter;
    logger: Logger;
  }) {
    this.#store = deps.store;
    this.#integrations = deps.integrations;
    this.#connections = deps.connections;
    this.#activity = deps.activity;
    this.#logger = deps.logger;
  }

  /**
   * Subscribes to deploys and rollbacks: called after each one commits with what it deployed and deleted
   * (deploying never starts a sync by itself; the sync engine does, from here).
   * @returns A function that unsubscribes.
   */
  onScriptsChanged(listener: ScriptsChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The plan of a deploy (`POST /sync/deploy/confirmation`): the ten arrays `nango deploy` shows, diffed against
   * what is stored. Changes nothing.
   * @throws FerryError `unknown_provider_config` naming an integration that does not exist
   */
  async plan(env: { id: number; name: string }, body: DeployBody): Promise<NangoPlan> {
    const prep = await this.#prepare(env, body);
    return (await this.#diff(this.#store.db, env, body, prep)).nango;
  }

  /**
   * Applies a deploy (`POST /sync/deploy`) in one transaction: stores new versions of new and changed scripts,
   * removes what the plan removes, keeps the rest; then tells the listeners and logs a `deploy` operation.
   * @returns One entry per sync and action of the body.
   * @throws FerryError `concurrent_deployment` while another deploy runs in the environment,
   *   `unknown_provider_config` naming an unknown integration
   */
  async deploy(env: { id: number; name: string }, body: DeployBody): Promise<DeploymentResult[]> {
    const owner = await this.#lock(env.id);
    const op = this.#activity.start({
      environmentId: env.id,
      kind: 'deploy',
      name: 'deploy',
      meta: {
        deploy_mode: body.deployMode ?? (body.singleDeployMode ? 'single' : 'all'),
        source: body.source ?? null,
        sdk_version: body.sdkVersion ?? null,
      },
    });
    try {
      const now = nowIso();
      const prep = await this.#prepare(env, body);
      const { results, change, plan } = await this.#store.db.transaction().execute(async (trx) => {
        const full = await this.#diff(trx, env, body, prep);
        // `reconcile: false` deploys what is sent and removes nothing (the CLI always sends true).
        const plan = body.reconcile === false ? withoutRemovals(full) : full;
        return { plan: plan.nango, ...(await this.#apply(trx, env.id, plan, prep.prepared, now)) };
      });
      for (const [list, entries] of Object.entries(plan)) {
        for (const e of entries as (string | { name: string; providerConfigKey: string })[]) {
          op.log(
            'info',
            typeof e === 'string' ? `${list}: ${e}` : `${list}: ${e.providerConfigKey} → ${e.name}`,
          );
        }
      }
      op.end('success', { plan });
      await this.#emit(change);
      return results;
    } catch (err) {
      op.end('failed', { error: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      await this.#unlock(env.id, owner);
    }
  }

  /** Every current (not removed) script version of an environment, by integration then type then name. */
  async listCurrent(environmentId: number): Promise<ScriptVersion[]> {
    const rows = await this.#versionQuery(environmentId)
      .whereRef('v.id', '=', 's.current_version_id')
      .where('s.deleted_at', 'is', null)
      .orderBy('i.unique_key')
      .orderBy('s.type')
      .orderBy('s.name')
      .execute();
    return rows.map(toVersion);
  }

  /** Every version of one script, newest first. */
  async listVersions(environmentId: number, key: ScriptKey): Promise<ScriptVersion[]> {
    const rows = await this.#versionQuery(environmentId)
      .where('i.unique_key', '=', key.integration)
      .where('s.type', '=', key.type)
      .where('s.name', '=', key.name)
      .orderBy('v.id', 'desc')
      .execute();
    return rows.map(toVersion);
  }

  /**
   * One version with its bundle text, for running it (a run keeps the version it started with).
   * @throws FerryError `not_found` for an unknown version
   */
  async getVersion(
    environmentId: number,
    versionId: number,
  ): Promise<ScriptVersion & { js: string; ts: string }> {
    const row = await this.#versionQuery(environmentId)
      .innerJoin('script_bundles as b', 'b.hash', 'v.bundle_hash')
      .select(['b.js'])
      .where('v.id', '=', versionId)
      .executeTakeFirst();
    if (!row) throw new FerryError('not_found', `Script version ${versionId} does not exist.`);
    return { ...toVersion(row), js: row.js, ts: row.source_ts };
  }

  /**
   * The TypeScript source of a current script (`nango pull --env`).
   * @throws FerryError `unknown_script` when there is none, `ambiguous_function` when the name is both a sync and
   *   an action (or on-event script) and no type is given
   */
  async code(
    environmentId: number,
    integration: string,
    name: string,
    type: ScriptType | undefined,
  ): Promise<{ type: ScriptType; code: string }> {
    let q = this.#versionQuery(environmentId)
      .whereRef('v.id', '=', 's.current_version_id')
      .where('s.deleted_at', 'is', null)
      .where('i.unique_key', '=', integration)
      .where('s.name', '=', name);
    if (type) q = q.where('s.type', '=', type);
    const rows = await q.execute();
    const first = rows[0];
    if (!first) {
      throw new FerryError(
        'unknown_script',
        `No ${type ?? 'function'} "${name}" is deployed for integration "${integration}".`,
      );
    }
    if (rows.length > 1) {
      throw new FerryError(
        'ambiguous_function',
        `"${name}" of integration "${integration}" is a ${rows.map((r) => r.type).join(' and a ')}: say which with type=sync, type=action or type=on-event.`,
      );
    }
    return { type: first.type as ScriptType, code: first.source_ts };
  }

  /**
   * Makes an earlier version of a script current again (Ferry's own `POST /scripts/rollback`). The newest
   * version with that version string is taken. A removed script is restored.
   * @throws FerryError `unknown_script` for an unknown script or version, `ambiguous_function` when the name is
   *   two kinds of script and no type is given, `concurrent_deployment` while a deploy runs
   */
  async rollback(
    env: { id: number; name: string },
    target: { integration: string; name: string; version: string; type?: ScriptType | undefined },
  ): Promise<ScriptVersion> {
    const owner = await this.#lock(env.id);
    try {
      let q = this.#versionQuery(env.id)
        .where('i.unique_key', '=', target.integration)
        .where('s.name', '=', target.name)
        .where('v.version', '=', target.version)
        .orderBy('v.id', 'desc');
      if (target.type) q = q.where('s.type', '=', target.type);
      const rows = await q.execute();
      const row = rows[0];
      if (!row) {
        throw new FerryError(
          'unknown_script',
          `Integration "${target.integration}" has no script "${target.name}" with version "${target.version}".`,
        );
      }
      if (new Set(rows.map((r) => r.script_id)).size > 1) {
        throw new FerryError(
          'ambiguous_function',
          `"${target.name}" of integration "${target.integration}" names several scripts: give its type.`,
        );
      }
      const script = await this.#store.db
        .selectFrom('scripts')
        .select(['current_version_id', 'deleted_at'])
        .where('id', '=', row.script_id)
        .executeTakeFirstOrThrow();
      await this.#store.db
        .updateTable('scripts')
        .set({ current_version_id: row.id, deleted_at: null, updated_at: nowIso() })
        .where('id', '=', row.script_id)
        .execute();
      const ref: ScriptRef = {
        environmentId: env.id,
        scriptId: row.script_id,
        integration: row.integration,
        type: row.type as ScriptType,
        name: row.name,
      };
      this.#activity
        .start({
          environmentId: env.id,
          kind: 'deploy',
          name: 'rollback',
          integration: row.integration,
          meta: { script: row.name, type: row.type, version: row.version, version_id: row.id },
        })
        .end('success');
      if (script.current_version_id !== row.id || script.deleted_at !== null) {
        await this.#emit({
          environmentId: env.id,
          deployed: [{ ...ref, versionId: row.id, previousVersionId: script.current_version_id }],
          deleted: [],
        });
      }
      return toVersion(row);
    } finally {
      await this.#unlock(env.id, owner);
    }
  }

  #versionQuery(environmentId: number) {
    return this.#store.db
      .selectFrom('script_versions as v')
      .innerJoin('scripts as s', 's.id', 'v.script_id')
      .innerJoin('integrations as i', 'i.id', 's.integration_id')
      .selectAll('v')
      .select(['i.unique_key as integration', 's.integration_id', 's.type', 's.name', 's.enabled'])
      .where('s.environment_id', '=', environmentId);
  }

  async #emit(change: ScriptsChange): Promise<void> {
    if (change.deployed.length === 0 && change.deleted.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        await listener(change);
      } catch (err) {
        this.#logger.error({ err }, 'a scripts-changed listener failed');
      }
    }
  }

  /**
   * Resolves and fingerprints the body's scripts, and counts connections. Runs outside the deploy's transaction:
   * on SQLite, a query on another connection would wait for that transaction.
   */
  async #prepare(env: { id: number; name: string }, body: DeployBody): Promise<Preparation> {
    const keys = new Set<string>();
    for (const f of body.flowConfigs) keys.add(f.providerConfigKey);
    for (const p of body.onEventScriptsByProvider ?? []) keys.add(p.providerConfigKey);
    const integrations = new Map<string, number>();
    for (const i of await this.#integrations.list(env.id)) integrations.set(i.uniqueKey, i.id);
    const unknown = [...keys].filter((k) => !integrations.has(k));
    if (unknown.length > 0) {
      throw new FerryError(
        'unknown_provider_config',
        `${unknown.length === 1 ? 'Integration' : 'Integrations'} ${unknown.map((k) => `"${k}"`).join(', ')} ${unknown.length === 1 ? 'does' : 'do'} not exist in environment "${env.name}". Create ${unknown.length === 1 ? 'it' : 'them'} before deploying.`,
        {
          errors: unknown.map((k) => ({ path: 'providerConfigKey', message: `unknown integration "${k}"` })),
        },
      );
    }
    const sdkVersion = body.sdkVersion ?? null;
    const prepared = new Map<string, Prepared>();
    const add = (p: Prepared, path: string): void => {
      const k = keyOf(p);
      if (prepared.has(k)) {
        throw new FerryError(
          'invalid_body',
          `Invalid body. ${path}: ${p.type} "${p.name}" of "${p.integration}" is given twice.`,
          {
            errors: [{ path, message: 'duplicate script' }],
          },
        );
      }
      prepared.set(k, p);
    };
    body.flowConfigs.forEach((f, idx) => {
      const js = f.fileBody.js;
      const hash = bundleHash(js);
      const isSync = f.type === 'sync';
      const row = {
        bundle_hash: hash,
        source_ts: f.fileBody.ts,
        event: null,
        runs: f.runs ?? null,
        auto_start: isSync && f.auto_start ? 1 : 0,
        sync_type: isSync ? (f.sync_type ?? 'full') : null,
        track_deletes: f.track_deletes ? 1 : 0,
        description: f.metadata?.description ?? null,
        input_model: typeof f.input === 'string' ? f.input : null,
        output_model: isSync ? null : (f.models[0] ?? null),
        models: toJson(f.models) ?? '[]',
        models_json_schema: toJson(f.models_json_schema ?? null),
        endpoints: toJson(normaliseEndpoints(f.endpoints)) ?? '[]',
        scopes: toJson(f.metadata?.scopes ?? []) ?? '[]',
        webhook_subscriptions: toJson(f.webhookSubscriptions ?? []) ?? '[]',
        features: toJson(f.features ?? []) ?? '[]',
        attributes: toJson(f.attributes ?? null),
        sdk_version: sdkVersion,
      };
      const askedVersion = f.version ?? '';
      add(
        {
          integration: f.providerConfigKey,
          integrationId: integrations.get(f.providerConfigKey) as number,
          type: f.type,
          name: f.syncName,
          event: null,
          autoStart: row.auto_start === 1,
          models: isSync ? f.models : [],
          askedVersion,
          js,
          bundleHash: hash,
          fingerprint: sha256(JSON.stringify([askedVersion, row, sha256(f.fileBody.ts)])),
          row,
        },
        `flowConfigs.${idx}`,
      );
    });
    (body.onEventScriptsByProvider ?? []).forEach((p, pi) => {
      p.scripts.forEach((s, si) => {
        const hash = bundleHash(s.fileBody.js);
        const row = {
          bundle_hash: hash,
          source_ts: s.fileBody.ts,
          event: s.event,
          runs: null,
          auto_start: 0,
          sync_type: null,
          track_deletes: 0,
          description: null,
          input_model: null,
          output_model: null,
          models: '[]',
          models_json_schema: null,
          endpoints: '[]',
          scopes: '[]',
          webhook_subscriptions: '[]',
          features: '[]',
          attributes: null,
          sdk_version: sdkVersion,
        };
        add(
          {
            integration: p.providerConfigKey,
            integrationId: integrations.get(p.providerConfigKey) as number,
            type: 'on-event',
            name: s.name,
            event: s.event,
            autoStart: false,
            models: [],
            askedVersion: '',
            js: s.fileBody.js,
            bundleHash: hash,
            fingerprint: sha256(JSON.stringify(['', row, sha256(s.fileBody.ts)])),
            row,
          },
          `onEventScriptsByProvider.${pi}.scripts.${si}`,
        );
      });
    });

    const connections = await this.#connections.countByIntegration(env.id);
    return { prepared, connections };
  }

  /** Reads the stored scripts and diffs the prepared ones against them. */
  async #diff(
    db: Transaction<Database> | Store['db'],
    env: { id: number },
    body: DeployBody,
    { prepared, connections }: Preparation,
  ): Promise<Plan> {
    const storedRows = await db
      .selectFrom('scripts as s')
      .innerJoin('integrations as i', 'i.id', 's.integration_id')
      .innerJoin('script_versions as v', 'v.id', 's.current_version_id')
      .select([
        's.id',
        's.type',
        's.name',
        'i.unique_key',
        'v.fingerprint',
        'v.auto_start',
        'v.models',
        'v.event',
      ])
      .where('s.environment_id', '=', env.id)
      .where('s.deleted_at', 'is', null)
      .execute();
    const stored: StoredScript[] = storedRows.map((r) => ({
      scriptId: r.id,
      integration: r.unique_key,
      type: r.type as ScriptType,
      name: r.name,
      fingerprint: r.fingerprint,
      autoStart: r.auto_start === 1,
      models: r.type === 'sync' ? fromJson<string[]>(r.models) : [],
      event: r.event,
    }));
    const mode = body.deployMode ?? (body.singleDeployMode ? 'single' : 'all');
    return planDeploy(
      [...prepared.values()],
      stored,
      {
        mode,
        integration:
          body.flowConfigs[0]?.providerConfigKey ?? body.onEventScriptsByProvider?.[0]?.providerConfigKey,
        hasFlows: body.flowConfigs.length > 0,
        hasOnEvents: body.onEventScriptsByProvider !== undefined,
      },
      connections,
    );
  }

  /** Writes a plan inside the deploy's transaction. */
  async #apply(
    trx: Transaction<Database>,
    environmentId: number,
    plan: Plan,
    prepared: Map<string, Prepared>,
    now: string,
  ): Promise<{ results: DeploymentResult[]; change: ScriptsChange }> {
    const change: ScriptsChange = { environmentId, deployed: [], deleted: [] };
    const written = new Map<string, { versionId: number; version: string; deployedAt: string }>();

    const store = async (p: Prepared, scriptId: number, previousVersionId: number | null): Promise<void> => {
      await trx
        .insertInto('script_bundles')
        .values({ hash: p.bundleHash, js: p.js, created_at: now })
        .onConflict((oc) => oc.column('hash').doNothing())
        .execute();
      let version = p.askedVersion;
      if (!version) {
        const last = await trx
          .selectFrom('script_versions')
          .select('version')
          .where('script_id', '=', scriptId)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        version = nextVersion(last?.version);
      }
      const inserted = await trx
        .insertInto('script_versions')
        .values({ ...p.row, fingerprint: p.fingerprint, script_id: scriptId, version, deployed_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('scripts')
        .set({ current_version_id: inserted.id, deleted_at: null, updated_at: now })
        .where('id', '=', scriptId)
        .execute();
      written.set(keyOf(p), { versionId: inserted.id, version, deployedAt: now });
      change.deployed.push({
        environmentId,
        scriptId,
        integration: p.integration,
        type: p.type,
        name: p.name,
        versionId: inserted.id,
        previousVersionId,
      });
    };

    for (const s of plan.create) {
      const p = prepared.get(keyOf(s)) as Prepared;
      // A script removed earlier keeps its row and its versions: it comes back with a new version.
      const existing = await trx
        .selectFrom('scripts')
        .select(['id', 'current_version_id'])
        .where('integration_id', '=', p.integrationId)
        .where('type', '=', p.type)
        .where('name', '=', p.name)
        .executeTakeFirst();
      let scriptId = existing?.id;
      if (scriptId === undefined) {
        try {
          const row = await trx
            .insertInto('scripts')
            .values({
              environment_id: environmentId,
              integration_id: p.integrationId,
              type: p.type,
              name: p.name,
              current_version_id: null,
              enabled: 1,
              created_at: now,
              updated_at: now,
              deleted_at: null,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          scriptId = row.id;
        } catch (err) {
          if (isUniqueViolation(err))
            throw new FerryError(
              'concurrent_deployment',
              'Another deploy changed the same scripts; try again.',
            );
          throw err;
        }
      }
      await store(p, scriptId, existing?.current_version_id ?? null);
    }
    for (const { incoming, stored } of plan.update) {
      const p = prepared.get(keyOf(incoming)) as Prepared;
      const current = await trx
        .selectFrom('scripts')
        .select('current_version_id')
        .where('id', '=', stored.scriptId)
        .executeTakeFirstOrThrow();
      await store(p, stored.scriptId, current.current_version_id);
    }
    if (plan.remove.length > 0) {
      await trx
        .updateTable('scripts')
        .set({ deleted_at: now, updated_at: now })
        .where(
          'id',
          'in',
          plan.remove.map((s) => s.scriptId),
        )
        .execute();
      for (const s of plan.remove) {
        change.deleted.push({
          environmentId,
          scriptId: s.scriptId,
          integration: s.integration,
          type: s.type,
          name: s.name,
        });
      }
    }

    // The answer lists every sync and action of the body, the unchanged ones with their current version.
    const unchangedIds = plan.unchanged.map((u) => u.stored.scriptId);
    const current = new Map<string, { versionId: number; version: string; deployedAt: string }>();
    if (unchangedIds.length > 0) {
      const rows = await trx
        .selectFrom('scripts as s')
        .innerJoin('script_versions as v', 'v.id', 's.current_version_id')
        .select(['s.id', 'v.id as version_id', 'v.version', 'v.deployed_at'])
        .where('s.id', 'in', unchangedIds)
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const u of plan.unchanged) {
        const r = byId.get(u.stored.scriptId);
        if (r)
          current.set(keyOf(u.incoming), {
            versionId: r.version_id,
            version: r.version,
            deployedAt: toIso(r.deployed_at),
          });
      }
    }
    const results: DeploymentResult[] = [];
    for (const p of prepared.values()) {
      if (p.type === 'on-event') continue;
      const v = written.get(keyOf(p)) ?? current.get(keyOf(p));
      if (!v) continue;
      results.push({
        name: p.name,
        version: v.version,
        providerConfigKey: p.integration,
        type: p.type,
        last_deployed: v.deployedAt,
        input: p.row.input_model ?? null,
        models: fromJson<string[]>(p.row.models),
        id: v.versionId,
        runs: p.row.runs ?? null,
      });
    }
    return { results, change };
  }

  /** Takes the environment's deploy lock. @throws FerryError `concurrent_deployment` when another deploy holds it */
  async #lock(environmentId: number): Promise<string> {
    const owner = randomUUID();
    const now = new Date();
    const expires = new Date(now.getTime() + LOCK_TTL_MS).toISOString();
    try {
      await this.#store.db
        .insertInto('script_deploy_locks')
        .values({ environment_id: environmentId, owner, expires_at: expires })
        .execute();
      return owner;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    // Held: take it over only if it expired (its deploy died).
    const taken = await this.#store.db
      .updateTable('script_deploy_locks')
      .set({ owner, expires_at: expires })
      .where('environment_id', '=', environmentId)
      .where('expires_at', '<', now.toISOString())
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1) return owner;
    throw new FerryError(
      'concurrent_deployment',
      'Another deploy to this environment is in progress; try again when it has finished.',
    );
  }

  async #unlock(environmentId: number, owner: string): Promise<void> {
    try {
      await this.#store.db
        .deleteFrom('script_deploy_locks')
        .where('environment_id', '=', environmentId)
        .where('owner', '=', owner)
        .execute();
    } catch (err) {
      this.#logger.error({ err }, 'could not release the deploy lock');
    }
  }
}
