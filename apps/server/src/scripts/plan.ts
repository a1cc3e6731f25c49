/** What a script is: a sync, an action or an on-event script. */
export type ScriptType = 'sync' | 'action' | 'on-event';

/** The identity of a script in an environment. */
export interface ScriptKey {
  integration: string;
  type: ScriptType;
  name: string;
}

/** A script as a deploy body carries it, before anything is stored. */
export interface IncomingScript extends ScriptKey {
  /** Hash of everything that makes the script what it is; equal hashes mean nothing to deploy. */
  fingerprint: string;
  autoStart: boolean;
  /** Record models (syncs only). */
  models: string[];
  event: string | null;
}

/** A stored script with its current version. */
export interface StoredScript extends ScriptKey {
  scriptId: number;
  fingerprint: string;
  autoStart: boolean;
  models: string[];
  event: string | null;
}

/** The ten arrays `nango deploy` reads from `/sync/deploy/confirmation`. */
export interface NangoPlan {
  newSyncs: SlimSync[];
  updatedSyncs: SlimSync[];
  deletedSyncs: SlimSync[];
  newActions: SlimAction[];
  updatedActions: SlimAction[];
  deletedActions: SlimAction[];
  newOnEventScripts: SlimOnEvent[];
  updatedOnEventScripts: SlimOnEvent[];
  deletedOnEventScripts: SlimOnEvent[];
  deletedModels: string[];
}
export interface SlimSync {
  name: string;
  providerConfigKey: string;
  auto_start: boolean;
  connections: number;
}
export interface SlimAction {
  name: string;
  providerConfigKey: string;
}
export interface SlimOnEvent {
  name: string;
  providerConfigKey: string;
  event: string;
}

/** The plan and what applying it means for each script. */
export interface Plan {
  nango: NangoPlan;
  create: IncomingScript[];
  update: { incoming: IncomingScript; stored: StoredScript }[];
  unchanged: { incoming: IncomingScript; stored: StoredScript }[];
  remove: StoredScript[];
}

/** What decides which stored scripts a deploy may remove. */
export interface PlanScope {
  mode: 'all' | 'integration' | 'single';
  /** The integration of an `integration` deploy (that of the first flow, or of the first on-event script). */
  integration: string | undefined;
  /** Whether the body carried syncs or actions at all: an empty `flowConfigs` removes none. */
  hasFlows: boolean;
  /** Whether the body carried `onEventScriptsByProvider`: without it, no on-event script is touched. */
  hasOnEvents: boolean;
}

/** The map key of a script. */
export const keyOf = (k: ScriptKey): string => `${k.integration}\u0000${k.type}\u0000${k.name}`;

/**
 * Diffs the scripts of a deploy body against the stored ones, as Nango's server does: new, updated (content
 * changed) and unchanged scripts, and the stored scripts the deploy mode removes. `deletedModels` are the record
 * models of the touched integrations that no sync has any more after the deploy.
 * @param connections - Number of connections per integration key (for `connections` of each sync).
 */
export function planDeploy(
  incoming: IncomingScript[],
  stored: StoredScript[],
  scope: PlanScope,
  connections: ReadonlyMap<string, number>,
): Plan {
  const storedByKey = new Map(stored.map((s) => [keyOf(s), s]));
  const incomingKeys = new Set(incoming.map(keyOf));
  const plan: Plan = {
    nango: {
      newSyncs: [],
      updatedSyncs: [],
      deletedSyncs: [],
      newActions: [],
      updatedActions: [],
      deletedActions: [],
      newOnEventScripts: [],
      updatedOnEventScripts: [],
      deletedOnEventScripts: [],
      deletedModels: [],
    },
    create: [],
    update: [],
    unchanged: [],
    remove: [],
  };
  const n = plan.nango;
  const slim = (s: IncomingScript | StoredScript, list: 'new' | 'updated' | 'deleted'): void => {
    if (s.type === 'sync') {
      const entry = {
        name: s.name,
        providerConfigKey: s.integration,
        auto_start: s.autoStart,
        connections: connections.get(s.integration) ?? 0,
      };
      (list === 'new' ? n.newSyncs : list === 'updated' ? n.updatedSyncs : n.deletedSyncs).push(entry);
    } else if (s.type === 'action') {
      const entry = { name: s.name, providerConfigKey: s.integration };
      (list === 'new' ? n.newActions : list === 'updated' ? n.updatedActions : n.deletedActions).push(entry);
    } else {
      const entry = { name: s.name, providerConfigKey: s.integration, event: s.event ?? s.name };
      (list === 'new'
        ? n.newOnEventScripts
        : list === 'updated'
          ? n.updatedOnEventScripts
          : n.deletedOnEventScripts
      ).push(entry);
    }
  };

  for (const s of incoming) {
    const old = storedByKey.get(keyOf(s));
    if (!old) {
      plan.create.push(s);
      slim(s, 'new');
    } else if (old.fingerprint !== s.fingerprint) {
      plan.update.push({ incoming: s, stored: old });
      slim(s, 'updated');
    } else {
      plan.unchanged.push({ incoming: s, stored: old });
    }
  }

  if (scope.mode !== 'single') {
    for (const s of stored) {
      if (incomingKeys.has(keyOf(s))) continue;
      if (scope.mode === 'integration' && s.integration !== scope.integration) continue;
      if (s.type === 'on-event' ? !scope.hasOnEvents : !scope.hasFlows) continue;
      plan.remove.push(s);
      slim(s, 'deleted');
    }
  }

  // Record models that no sync of their integration has after the deploy.
  const touched = new Set([...plan.remove, ...plan.update.map((u) => u.stored)].map((s) => s.integration));
  const removedKeys = new Set(plan.remove.map(keyOf));
  for (const integration of touched) {
    const before = new Set<string>();
    const after = new Set<string>();
    for (const s of stored) {
      if (s.type !== 'sync' || s.integration !== integration) continue;
      for (const m of s.models) before.add(m);
      if (!removedKeys.has(keyOf(s)) && !incomingKeys.has(keyOf(s))) for (const m of s.models) after.add(m);
    }
    for (const s of incoming) {
      if (s.type === 'sync' && s.integration === integration) for (const m of s.models) after.add(m);
    }
    for (const m of before) if (!after.has(m)) n.deletedModels.push(m);
  }
  return plan;
}

/** The plan without its removals: what `POST /sync/deploy` with `reconcile: false` applies. */
export function withoutRemovals(plan: Plan): Plan {
  return {
    ...plan,
    remove: [],
    nango: {
      ...plan.nango,
      deletedSyncs: [],
      deletedActions: [],
      deletedOnEventScripts: [],
      deletedModels: [],
    },
  };
}
