import { createHash } from 'node:crypto';
import type { Insertable } from 'kysely';
import { FerryError } from '../errors.js';
import type { ScriptVersionsTable } from '../store/schema.js';
import { toJson } from '../store/values.js';
import { keyOf, type IncomingScript } from './plan.js';
import type { DeployBody, FlowConfig } from './schemas.js';
import type { ScriptEndpoint } from './versions.js';

/** A script of a deploy body, resolved and ready to store. */
export interface Prepared extends IncomingScript {
  integrationId: number;
  /** The version the body asks for; empty means "pick the next one". */
  askedVersion: string;
  js: string;
  bundleHash: string;
  row: Omit<Insertable<ScriptVersionsTable>, 'script_id' | 'version' | 'deployed_at' | 'fingerprint'>;
}

/** The scripts of a deploy body, resolved, and the connection counts the plan shows. */
export interface Preparation {
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
export function nextVersion(previous: string | undefined): string {
  if (!previous) return '0.0.1';
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(previous);
  return m ? `${m[1]}.${m[2]}.${Number(m[3]) + 1}` : `${previous}.1`;
}

/**
 * Resolves and fingerprints the scripts of a deploy body: one entry per script, keyed by {@link keyOf}. The
 * fingerprint covers everything that makes a script what it is (the asked version, every field, the bundle and
 * the source), so equal fingerprints mean nothing to deploy.
 * @param integrations - The environment's integration ids by unique key (every key of the body is in it).
 * @throws FerryError `invalid_body` when a script is given twice
 */
export function prepareScripts(
  body: DeployBody,
  integrations: ReadonlyMap<string, number>,
): Map<string, Prepared> {
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

  return prepared;
}
