/** Deploy bodies shaped exactly as `nango deploy` 0.71.10 sends them (see shared/NANGO-CLI.md §3.3). */

/** A fake compiled bundle: CommonJS with an inline source map of about `size` bytes in all. */
export function bundle(name: string, salt = '', size = 600): string {
  const head = `"use strict";\n// ${name}${salt}\nmodule.exports = { __esModule: true, default: { type: 'sync', exec: async (nango) => { await nango.log(${JSON.stringify(name + salt)}); } } };\n`;
  const pad = Math.max(0, size - head.length - 60);
  return `${head}//# sourceMappingURL=data:application/json;base64,${Buffer.from('x'.repeat(pad)).toString('base64').slice(0, pad)}`;
}

/** A sync flow config. */
export function syncFlow(
  integration: string,
  name: string,
  opts: {
    salt?: string;
    models?: string[];
    version?: string;
    autoStart?: boolean;
    size?: number;
    metadata?: boolean;
  } = {},
) {
  const models = opts.models ?? [`${name[0]!.toUpperCase()}${name.slice(1)}Item`];
  const definitions: Record<string, unknown> = {};
  for (const m of models) {
    definitions[m] = {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' } },
      required: ['id', 'name'],
      additionalProperties: false,
    };
  }
  const input = opts.metadata
    ? `SyncMetadata_${integration.replace(/[^a-zA-Z0-9]/g, '_')}_${name}`
    : undefined;
  if (input) definitions[input] = { type: 'null' };
  return {
    syncName: name,
    providerConfigKey: integration,
    models,
    version: opts.version ?? '1.0.0',
    runs: 'every hour',
    track_deletes: false,
    auto_start: opts.autoStart ?? true,
    attributes: {},
    metadata: { description: `Syncs ${name}`, scopes: [] },
    ...(input ? { input } : {}),
    sync_type: 'full',
    type: 'sync',
    fileBody: {
      js: bundle(name, opts.salt, opts.size),
      ts: `// ${name}.ts${opts.salt ?? ''}\nexport default {};\n`,
    },
    endpoints: [{ method: 'GET', path: `/${name}`, group: 'Items' }],
    webhookSubscriptions: [],
    models_json_schema: { definitions },
    features: [],
  };
}

/** An action flow config. */
export function actionFlow(
  integration: string,
  name: string,
  opts: { salt?: string; version?: string; size?: number } = {},
) {
  const clean = integration.replace(/[^a-zA-Z0-9]/g, '_');
  const input = `ActionInput_${clean}_${name}`;
  const output = `ActionOutput_${clean}_${name}`;
  return {
    syncName: name,
    providerConfigKey: integration,
    models: [output],
    version: opts.version ?? '1.0.0',
    runs: null,
    metadata: { description: `Does ${name}`, scopes: [] },
    input,
    type: 'action',
    fileBody: {
      js: bundle(name, opts.salt, opts.size),
      ts: `// ${name}.ts${opts.salt ?? ''}\nexport default {};\n`,
    },
    endpoints: [{ method: 'POST', path: `/${name}`, group: 'Items' }],
    track_deletes: false,
    models_json_schema: {
      definitions: {
        [input]: {
          type: 'object',
          properties: { title: { type: 'string', description: 'The title' }, count: { type: 'number' } },
          required: ['title'],
          additionalProperties: false,
        },
        [output]: {
          type: 'object',
          properties: { id: { type: 'string' } },
          required: ['id'],
          additionalProperties: false,
        },
      },
    },
    features: [],
  };
}

/** An on-event script group of one integration. */
export function onEvents(integration: string, names: string[], salt = '') {
  return {
    providerConfigKey: integration,
    scripts: names.map((name) => ({
      name,
      event: name,
      fileBody: { js: bundle(name, salt), ts: `// ${name}.ts${salt}\n` },
    })),
  };
}

/** The confirmation body (`/sync/deploy` adds `reconcile: true`, `nangoYamlBody` and `source`). */
export function deployBody(
  flowConfigs: unknown[],
  opts: { onEvents?: unknown[] | undefined; mode?: 'all' | 'integration' | 'single'; final?: boolean } = {},
) {
  return {
    flowConfigs,
    ...(opts.onEvents ? { onEventScriptsByProvider: opts.onEvents } : {}),
    deployMode: opts.mode ?? 'all',
    reconcile: opts.final ?? false,
    debug: false,
    ...(opts.final ? { nangoYamlBody: '' } : {}),
    sdkVersion: '0.71.10-zero',
    ...(opts.final ? { source: 'repo' } : {}),
  };
}
