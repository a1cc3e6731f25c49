import type { ScriptVersion } from './registry.js';

/** One script in Nango's `NangoSyncConfig` form (`GET /scripts/config?format=nango`). */
export interface NangoSyncConfig {
  name: string;
  type: 'sync' | 'action' | 'on-event';
  runs: string | null;
  auto_start: boolean;
  attributes: Record<string, unknown>;
  description: string;
  scopes: string[];
  track_deletes: boolean;
  returns: string[];
  endpoints: { method: string; path: string; group?: string }[];
  version: string;
  last_deployed: string;
  id: number;
  input?: string;
  sync_type?: 'full' | 'incremental';
  event?: string;
  webhookSubscriptions: string[];
  enabled: boolean;
  json_schema: Record<string, unknown> | null;
  sdk_version: string | null;
  features: string[];
}

/** Nango's `StandardNangoConfig`: the scripts of one integration. */
export interface StandardNangoConfig {
  providerConfigKey: string;
  provider: string;
  syncs: NangoSyncConfig[];
  actions: NangoSyncConfig[];
  'on-events': NangoSyncConfig[];
}

/** An OpenAI function definition for an action (`format=openai`). */
export interface OpenAiFunction {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

function toNango(v: ScriptVersion): NangoSyncConfig {
  const out: NangoSyncConfig = {
    name: v.name,
    type: v.type,
    runs: v.runs,
    auto_start: v.autoStart,
    attributes: v.attributes ?? {},
    description: v.description ?? '',
    scopes: v.scopes,
    track_deletes: v.trackDeletes,
    returns: v.models,
    endpoints: v.endpoints,
    version: v.version,
    last_deployed: v.deployedAt,
    id: v.id,
    webhookSubscriptions: v.webhookSubscriptions,
    enabled: v.enabled,
    json_schema: v.modelsJsonSchema,
    sdk_version: v.sdkVersion,
    features: v.features,
  };
  if (v.inputModel) out.input = v.inputModel;
  if (v.syncType) out.sync_type = v.syncType;
  if (v.event) out.event = v.event;
  return out;
}

/**
 * Groups current script versions by integration in Nango's `StandardNangoConfig[]` form, as `@nangohq/node`'s
 * `getScriptsConfig()` returns it.
 * @param providers - The provider of each integration key.
 */
export function toStandardConfig(
  versions: ScriptVersion[],
  providers: ReadonlyMap<string, string>,
): StandardNangoConfig[] {
  const byIntegration = new Map<string, StandardNangoConfig>();
  for (const v of versions) {
    let entry = byIntegration.get(v.integration);
    if (!entry) {
      entry = {
        providerConfigKey: v.integration,
        provider: providers.get(v.integration) ?? '',
        syncs: [],
        actions: [],
        'on-events': [],
      };
      byIntegration.set(v.integration, entry);
    }
    (v.type === 'sync' ? entry.syncs : v.type === 'action' ? entry.actions : entry['on-events']).push(
      toNango(v),
    );
  }
  return [...byIntegration.values()];
}

/** Resolves `#/definitions/X` references against the script's definitions, inlining them once (no cycles). */
function inline(schema: unknown, defs: Record<string, unknown>, seen: Set<string>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(s, defs, seen));
  if (typeof schema !== 'object' || schema === null) return schema;
  const obj = schema as Record<string, unknown>;
  const ref = obj.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
    const name = ref.slice('#/definitions/'.length);
    if (seen.has(name) || !(name in defs)) return {};
    return inline(defs[name], defs, new Set([...seen, name]));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = inline(v, defs, seen);
  return out;
}

/**
 * OpenAI function definitions for the current actions: the parameters are the action's input JSON schema (an
 * object schema; an action without input, or with a non-object input, takes an empty object).
 */
export function toOpenAiFunctions(versions: ScriptVersion[]): OpenAiFunction[] {
  const out: OpenAiFunction[] = [];
  for (const v of versions) {
    if (v.type !== 'action') continue;
    const defs = v.modelsJsonSchema?.definitions ?? {};
    const input = v.inputModel ? inline(defs[v.inputModel], defs, new Set([v.inputModel])) : undefined;
    const isObject =
      typeof input === 'object' && input !== null && (input as { type?: unknown }).type === 'object';
    out.push({
      name: v.name,
      description: v.description ?? '',
      parameters: isObject
        ? (input as Record<string, unknown>)
        : { type: 'object', properties: {}, additionalProperties: false },
    });
  }
  return out;
}
