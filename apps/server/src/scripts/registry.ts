import type { Transaction } from 'kysely';
import type { ConnectionService } from '../connections/service.js';
import { FerryError } from '../errors.js';
import type { IntegrationService } from '../integrations/service.js';
import type { Logger } from '../logger.js';
import type { ActivityLogWriter } from '../logs/writer.js';
import type { Database } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { fromJson, isUniqueViolation, nowIso, toIso } from '../store/values.js';
import { acquireDeployLock, releaseDeployLock } from './lock.js';
import {
  keyOf,
  planDeploy,
  type NangoPlan,
  type Plan,
  type ScriptKey,
  type ScriptType,
  type StoredScript,
  withoutRemovals,
} from './plan.js';
import { nextVersion, prepareScripts, type Preparation, type Prepared } from './prepare.js';
import type { DeployBody } from './schemas.js';
import { toVersion, versionQuery, type ScriptVersion } from './versions.js';

export { bundleHash } from './prepare.js';
export type { ScriptEndpoint, ScriptVersion } from './versions.js';

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
    // An integration's scripts go with it (cascade): the sync engine hears of them as deleted.
    deps.integrations.onDeleting(async (environmentId, uniqueKey) => {
      const deleted = await this.#liveScripts(environmentId, uniqueKey);
      return () => this.#emit({ environmentId, deployed: [], deleted });
    });
  }

  /** The scripts of an integration that are not deleted. */
  async #liveScripts(environmentId: number, integration: string): Promise<ScriptRef[]> {
    const rows = await this.#store.db
      .selectFrom('scripts')
      .innerJoin('integrations', 'integrations.id', 'scripts.integration_id')
      .select(['scripts.id', 'scripts.type', 'scripts.name'])
      .where('scripts.environment_id', '=', environmentId)
      .where('integrations.unique_key', '=', integration)
      .where('scripts.deleted_at', 'is', null)
      .execute();
    return rows.map((r) => ({
      environmentId,
      scriptId: r.id,
      integration,
      type: r.type as ScriptType,
      name: r.name,
    }));
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
    return versionQuery(this.#store.db, environmentId);
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
    const prepared = prepareScripts(body, integrations);
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

  async #lock(environmentId: number): Promise<string> {
    return acquireDeployLock(this.#store.db, environmentId);
  }

  async #unlock(environmentId: number, owner: string): Promise<void> {
    try {
      await releaseDeployLock(this.#store.db, environmentId, owner);
    } catch (err) {
      this.#logger.error({ err }, 'could not release the deploy lock');
    }
  }
}
