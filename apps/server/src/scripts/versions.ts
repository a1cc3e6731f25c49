import type { Selectable } from 'kysely';
import type { ScriptVersionsTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { fromJson, toIso } from '../store/values.js';
import type { ScriptType } from './plan.js';

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

export type VersionRow = Selectable<ScriptVersionsTable> & {
  integration: string;
  integration_id: number;
  type: string;
  name: string;
  enabled: number;
};

export function toVersion(r: VersionRow): ScriptVersion {
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

/** Script versions of an environment joined with their script and integration (add the filters). */
export function versionQuery(db: Store['db'], environmentId: number) {
  return db
    .selectFrom('script_versions as v')
    .innerJoin('scripts as s', 's.id', 'v.script_id')
    .innerJoin('integrations as i', 'i.id', 's.integration_id')
    .selectAll('v')
    .select(['i.unique_key as integration', 's.integration_id', 's.type', 's.name', 's.enabled'])
    .where('s.environment_id', '=', environmentId);
}
