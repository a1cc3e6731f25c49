import { Ferry } from '@ferry/node';
import { Nango } from '@nangohq/node';
import { expect, it } from 'vitest';
import { CodeCache } from '../../../packages/runtime/src/codeCache.js';
import type { ScriptsChange } from '../src/scripts/registry.js';
import { actionFlow, bundle, deployBody, onEvents, syncFlow } from './deployBodies.js';
import { describeEachDatabase } from './harness.js';

const emptyPlan = {
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
};

describeEachDatabase('deploy (nango deploy wire contract) and the script registry', (get) => {
  const oauth = { type: 'OAUTH2', access_token: 'tok' };
  const changes: ScriptsChange[] = [];
  const project = (salt = '') => [
    syncFlow('github', 'fetchIssues', { salt, metadata: true }),
    actionFlow('github', 'createIssue', { salt }),
  ];
  const envId = async () =>
    (await get().server.services.environments.bySecretKey(get().secretKey.toLowerCase()))!.id;
  const confirm = (body: unknown) => get().api('POST', '/sync/deploy/confirmation', body);
  const deploy = (body: Record<string, unknown>) =>
    get().api('POST', '/sync/deploy', { ...body, reconcile: true, nangoYamlBody: '', source: 'repo' });

  it('answers the CLI telemetry with 204 and no auth', async () => {
    const res = await fetch(`${get().url}/cli/telemetry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        deviceId: '3f1c2a8e-0000-4000-8000-000000000000',
        event: 'cli:deploy',
        ephemeral: false,
      }),
    });
    expect(res.status).toBe(204);
  });

  it('plans a first deploy with all ten arrays and the real connection count', async () => {
    const { api, server } = get();
    server.services.scripts.onScriptsChanged((c) => {
      changes.push(c);
    });
    await api('POST', '/integrations', { provider: 'github', unique_key: 'github' });
    await api('POST', '/integrations', { provider: 'github', unique_key: 'other' });
    for (const id of ['c1', 'c2']) {
      expect(
        (
          await api('POST', '/connections', {
            provider_config_key: 'github',
            connection_id: id,
            credentials: oauth,
          })
        ).status,
      ).toBe(201);
    }
    const res = await confirm(
      deployBody(project(), { onEvents: [onEvents('github', ['pre-connection-deletion'])] }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ...emptyPlan,
      newSyncs: [{ name: 'fetchIssues', providerConfigKey: 'github', auto_start: true, connections: 2 }],
      newActions: [{ name: 'createIssue', providerConfigKey: 'github' }],
      newOnEventScripts: [
        { name: 'pre-connection-deletion', providerConfigKey: 'github', event: 'pre-connection-deletion' },
      ],
    });
    // The confirmation changes nothing.
    expect((await api('GET', '/scripts/config')).body).toEqual([]);
  });

  it('deploys: a bare array of the syncs and actions, everything stored, a deploy operation, one change event', async () => {
    const { api, server } = get();
    const res = await deploy(
      deployBody(project(), { onEvents: [onEvents('github', ['pre-connection-deletion'])] }),
    );
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((r: any) => [r.name, r.version, r.type, r.providerConfigKey])).toEqual([
      ['fetchIssues', '1.0.0', 'sync', 'github'],
      ['createIssue', '1.0.0', 'action', 'github'],
    ]);
    expect(res.body[0]).toMatchObject({
      input: 'SyncMetadata_github_fetchIssues',
      models: ['FetchIssuesItem'],
      runs: 'every hour',
    });

    const config = (await api('GET', '/scripts/config?format=nango')).body;
    expect(config).toHaveLength(1);
    expect(config[0]).toMatchObject({ providerConfigKey: 'github', provider: 'github' });
    expect(config[0].syncs[0]).toMatchObject({
      name: 'fetchIssues',
      type: 'sync',
      runs: 'every hour',
      auto_start: true,
      returns: ['FetchIssuesItem'],
      sync_type: 'full',
      input: 'SyncMetadata_github_fetchIssues',
      sdk_version: '0.71.10-zero',
      enabled: true,
      endpoints: [{ method: 'GET', path: '/fetchIssues', group: 'Items' }],
    });
    expect(config[0].syncs[0].json_schema.definitions.FetchIssuesItem.type).toBe('object');
    expect(config[0].actions[0]).toMatchObject({
      name: 'createIssue',
      input: 'ActionInput_github_createIssue',
    });
    expect(config[0]['on-events'][0]).toMatchObject({
      name: 'pre-connection-deletion',
      event: 'pre-connection-deletion',
    });

    const version = await server.services.scripts.getVersion(await envId(), res.body[0].id);
    expect(version.js).toContain('fetchIssues');
    expect(version.sdkVersion).toBe('0.71.10-zero');

    expect(changes).toHaveLength(1);
    expect(changes[0]!.deployed.map((d) => `${d.type}:${d.name}`).sort()).toEqual([
      'action:createIssue',
      'on-event:pre-connection-deletion',
      'sync:fetchIssues',
    ]);
    const ops = (await api('GET', '/logs/operations?kind=deploy')).body.data;
    expect(ops[0]).toMatchObject({ kind: 'deploy', status: 'success' });
    expect(ops[0].meta.plan.newSyncs[0].name).toBe('fetchIssues');
  });

  it('re-deploying the same scripts is an empty plan and keeps every version', async () => {
    const body = deployBody(project(), { onEvents: [onEvents('github', ['pre-connection-deletion'])] });
    expect((await confirm(body)).body).toEqual(emptyPlan);
    const before = (await get().api('GET', '/scripts/config')).body[0].syncs[0].id;
    const res = await deploy(body);
    expect(res.body.map((r: any) => r.id)[0]).toBe(before);
    expect(changes).toHaveLength(1);
  });

  it('a changed script gets a new version; the previous one is kept; rollback makes it current again', async () => {
    const { api, server } = get();
    const body = deployBody(
      [
        syncFlow('github', 'fetchIssues', { salt: 'v2', metadata: true, version: '1.1.0' }),
        actionFlow('github', 'createIssue'),
      ],
      {
        onEvents: [onEvents('github', ['pre-connection-deletion'])],
      },
    );
    expect((await confirm(body)).body).toEqual({
      ...emptyPlan,
      updatedSyncs: [{ name: 'fetchIssues', providerConfigKey: 'github', auto_start: true, connections: 2 }],
    });
    const res = await deploy(body);
    expect(res.body[0].version).toBe('1.1.0');
    const versions = await server.services.scripts.listVersions(await envId(), {
      integration: 'github',
      type: 'sync',
      name: 'fetchIssues',
    });
    expect(versions.map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    expect(changes.at(-1)!.deployed).toEqual([
      expect.objectContaining({
        name: 'fetchIssues',
        versionId: versions[0]!.id,
        previousVersionId: versions[1]!.id,
      }),
    ]);

    const rolled = await api('POST', '/scripts/rollback', {
      integration: 'github',
      name: 'fetchIssues',
      version: '1.0.0',
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body.data).toMatchObject({
      name: 'fetchIssues',
      version: '1.0.0',
      version_id: versions[1]!.id,
    });
    const config = (await api('GET', '/scripts/config')).body;
    expect(config[0].syncs[0]).toMatchObject({ version: '1.0.0', id: versions[1]!.id });
    expect(
      (
        await api('POST', '/scripts/rollback', {
          integration: 'github',
          name: 'fetchIssues',
          version: '9.9.9',
        })
      ).body.error.code,
    ).toBe('unknown_script');
    // The code of the rolled-back version is what a run now loads.
    expect((await api('GET', '/integrations/github/functions/fetchIssues/code')).body).toEqual({
      type: 'sync',
      code: '// fetchIssues.ts\nexport default {};\n',
    });
  });

  it('without a version, a changed script gets the next patch version', async () => {
    const flow = { ...actionFlow('github', 'createIssue', { salt: 'b' }), version: '' };
    const body = deployBody([syncFlow('github', 'fetchIssues', { metadata: true }), flow], {
      onEvents: [onEvents('github', ['pre-connection-deletion'])],
    });
    const res = await deploy(body);
    expect(res.body[1]).toMatchObject({ name: 'createIssue', version: '1.0.1' });
    // Unchanged and without a version: still no new version.
    expect((await confirm(body)).body).toEqual(emptyPlan);
  });

  it('with reconcile: false, /sync/deploy deploys what is sent and removes nothing', async () => {
    const { api } = get();
    const before = (await api('GET', '/scripts/config')).body;
    const res = await api(
      'POST',
      '/sync/deploy',
      deployBody([actionFlow('github', 'createIssue', { salt: 'b' })], { onEvents: [] }),
    );
    expect(res.status).toBe(200);
    const after = (await api('GET', '/scripts/config')).body;
    expect(after[0].syncs.map((s: any) => s.name)).toEqual(before[0].syncs.map((s: any) => s.name));
    expect(after[0]['on-events']).toHaveLength(1);
  });

  it('removes what `all` no longer sends: deleted syncs carry their connections, their models are deleted', async () => {
    const body = deployBody([actionFlow('github', 'createIssue', { salt: 'b' })], { onEvents: [] });
    const plan = (await confirm(body)).body;
    expect(plan).toEqual({
      ...emptyPlan,
      deletedSyncs: [{ name: 'fetchIssues', providerConfigKey: 'github', auto_start: true, connections: 2 }],
      deletedOnEventScripts: [
        { name: 'pre-connection-deletion', providerConfigKey: 'github', event: 'pre-connection-deletion' },
      ],
      deletedModels: ['FetchIssuesItem'],
    });
    const res = await deploy(body);
    expect(res.body.map((r: any) => r.name)).toEqual(['createIssue']);
    expect(
      changes
        .at(-1)!
        .deleted.map((d) => d.name)
        .sort(),
    ).toEqual(['fetchIssues', 'pre-connection-deletion']);
    const config = (await get().api('GET', '/scripts/config')).body;
    expect(config[0].syncs).toEqual([]);
    expect(config[0]['on-events']).toEqual([]);
    // A removed script can be rolled back.
    const rolled = await get().api('POST', '/scripts/rollback', {
      integration: 'github',
      name: 'fetchIssues',
      version: '1.1.0',
      type: 'sync',
    });
    expect(rolled.status).toBe(200);
    expect((await get().api('GET', '/scripts/config')).body[0].syncs[0].version).toBe('1.1.0');
  });

  it('`integration` only removes within its integration, `single` removes nothing, empty flowConfigs removes nothing', async () => {
    expect(
      (await deploy(deployBody([syncFlow('other', 'listThings', { models: ['Thing'] })], { mode: 'single' })))
        .status,
    ).toBe(200);
    const single = await confirm(deployBody([actionFlow('github', 'closeIssue')], { mode: 'single' }));
    expect(single.body).toEqual({
      ...emptyPlan,
      newActions: [{ name: 'closeIssue', providerConfigKey: 'github' }],
    });
    const integration = await confirm(
      deployBody([actionFlow('github', 'createIssue', { salt: 'b' })], { mode: 'integration' }),
    );
    expect(integration.body.deletedSyncs.map((s: any) => s.name)).toEqual(['fetchIssues']);
    expect(integration.body.deletedSyncs.some((s: any) => s.providerConfigKey === 'other')).toBe(false);
    const all = await confirm(deployBody([actionFlow('github', 'createIssue', { salt: 'b' })]));
    expect(all.body.deletedSyncs.map((s: any) => s.name).sort()).toEqual(['fetchIssues', 'listThings']);
    expect(all.body.deletedSyncs.find((s: any) => s.name === 'listThings').connections).toBe(0);
    expect((await confirm(deployBody([]))).body).toEqual(emptyPlan);
  });

  it('answers an unknown integration with unknown_provider_config naming it', async () => {
    for (const path of ['/sync/deploy/confirmation', '/sync/deploy']) {
      const res = await get().api('POST', path, deployBody([syncFlow('nope', 'x1')]));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('unknown_provider_config');
      expect(res.body.error.message).toContain('"nope"');
    }
  });

  it('validates the body strictly, accepting the keys older CLIs send', async () => {
    const base = deployBody(project());
    const legacy = { ...base, singleDeployMode: false, jsonSchema: {}, postConnectionScriptsByProvider: [] };
    legacy.flowConfigs = [{ ...syncFlow('github', 'fetchIssues', { metadata: true }), model_schema: [] }];
    expect((await confirm(legacy)).status).toBe(200);
    const cases: [string, unknown][] = [
      ['unknown top-level key', { ...base, surprise: 1 }],
      ['unknown flow key', { ...base, flowConfigs: [{ ...syncFlow('github', 'a'), surprise: 1 }] }],
      ['bad sdkVersion', { ...base, sdkVersion: 'zero' }],
      [
        'incremental + track_deletes',
        {
          ...base,
          flowConfigs: [{ ...syncFlow('github', 'a'), sync_type: 'incremental', track_deletes: true }],
        },
      ],
      [
        'model without schema',
        { ...base, flowConfigs: [{ ...syncFlow('github', 'a'), models: ['Missing'] }] },
      ],
      ['duplicate script', { ...base, flowConfigs: [syncFlow('github', 'a'), syncFlow('github', 'a')] }],
      ['missing flowConfigs', { deployMode: 'all' }],
    ];
    for (const [what, body] of cases) {
      const res = await confirm(body);
      expect(res.status, what).toBe(400);
      expect(res.body.error.code, what).toBe('invalid_body');
    }
    expect(
      (await get().api('POST', '/sync/deploy', deployBody(project()), { authorization: 'Bearer nope' })).body
        .error.code,
    ).toBe('unknown_account');
  });

  it('takes bodies up to 75 MB on the deploy routes only', async () => {
    const big = deployBody([syncFlow('github', 'bigSync', { size: 3_000_000 })], { mode: 'single' });
    expect((await confirm(big)).status).toBe(200);
    // Only for a known secret key: anyone else gets the general limit before auth is checked.
    const anonymous = await get().api('POST', '/sync/deploy/confirmation', big, {
      authorization: 'Bearer nope',
    });
    expect(anonymous.status).toBe(413);
    // The server's own limit (1 MB in tests) still holds elsewhere.
    const other = await get().api('POST', '/integrations', {
      provider: 'github',
      unique_key: 'x'.repeat(10),
      padding: 'x'.repeat(2_000_000),
    });
    expect(other.status).toBe(413);
  });

  it('refuses a deploy while another holds the environment lock, and takes over an expired lock', async () => {
    const { server } = get();
    const db = server.services.store.db;
    await db
      .insertInto('script_deploy_locks')
      .values({
        environment_id: await envId(),
        owner: 'other',
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      })
      .execute();
    const res = await deploy(
      deployBody([actionFlow('github', 'createIssue', { salt: 'b' })], { mode: 'single' }),
    );
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('concurrent_deployment');
    await db
      .updateTable('script_deploy_locks')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();
    expect(
      (await deploy(deployBody([actionFlow('github', 'createIssue', { salt: 'b' })], { mode: 'single' })))
        .status,
    ).toBe(200);
    expect(await db.selectFrom('script_deploy_locks').selectAll().execute()).toEqual([]);
  });

  it('serves the TypeScript source for `nango pull --env`, with ambiguous_function for a name of two kinds', async () => {
    const { api } = get();
    await deploy(deployBody([syncFlow('github', 'twin'), actionFlow('github', 'twin')], { mode: 'single' }));
    expect((await api('GET', '/integrations/github/functions/createIssue/code')).body).toEqual({
      type: 'action',
      code: '// createIssue.tsb\nexport default {};\n',
    });
    const amb = await api('GET', '/integrations/github/functions/twin/code');
    expect(amb.status).toBe(400);
    expect(amb.body.error.code).toBe('ambiguous_function');
    expect((await api('GET', '/integrations/github/functions/twin/code?type=action')).body.type).toBe(
      'action',
    );
    expect((await api('GET', '/integrations/github/functions/nothing/code')).body.error.code).toBe(
      'unknown_script',
    );
  });

  it('lists actions as OpenAI functions from their input schemas', async () => {
    const res = await get().api('GET', '/scripts/config?format=openai');
    const fn = res.body.data.find((f: any) => f.name === 'createIssue');
    expect(fn).toEqual({
      name: 'createIssue',
      description: 'Does createIssue',
      parameters: {
        type: 'object',
        properties: { title: { type: 'string', description: 'The title' }, count: { type: 'number' } },
        required: ['title'],
        additionalProperties: false,
      },
    });
    expect(res.body.data.every((f: any) => f.parameters.type === 'object')).toBe(true);
  });

  it('@ferry/node and @nangohq/node read the scripts back alike', async () => {
    const { url, secretKey } = get();
    const ferry = new Ferry({ host: url, secretKey });
    const nango = new Nango({ host: url, secretKey });
    try {
      const config = await ferry.getScriptsConfig();
      expect(config.map((c) => c.providerConfigKey).sort()).toEqual(['github', 'other']);
      expect(await nango.getScriptsConfig()).toEqual(config);
      const openai = await ferry.getScriptsConfig('openai');
      expect(await nango.getScriptsConfig('openai')).toEqual(openai);
      expect(openai.data.map((f) => f.name)).toContain('createIssue');
      expect((await ferry.getFunctionCode('github', 'twin', 'sync')).type).toBe('sync');
      await expect(ferry.getFunctionCode('github', 'twin')).rejects.toMatchObject({
        code: 'ambiguous_function',
        status: 400,
      });
      const rolled = await ferry.rollbackScript({
        integration: 'github',
        name: 'createIssue',
        version: '1.0.0',
      });
      expect(rolled.data.version).toBe('1.0.0');
    } finally {
      await ferry.close();
    }
  });

  it('stores a bundle once by content hash, the runtime code-cache key: the same bundle twice costs nothing', async () => {
    const { server } = get();
    const db = server.services.store.db;
    const js = bundle('shared-bundle');
    const a = { ...actionFlow('github', 'sameA'), fileBody: { js, ts: '// a' } };
    const b = { ...actionFlow('github', 'sameB'), fileBody: { js, ts: '// b' } };
    const res = await deploy(deployBody([a, b], { mode: 'single' }));
    expect(res.status).toBe(200);
    const va = await server.services.scripts.getVersion(await envId(), res.body[0].id);
    const vb = await server.services.scripts.getVersion(await envId(), res.body[1].id);
    expect(va.bundleHash).toBe(vb.bundleHash);
    expect(va.bundleHash).toBe(new CodeCache().get(js).hash);
    const rows = await db
      .selectFrom('script_bundles')
      .select('hash')
      .where('hash', '=', va.bundleHash)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('answers the experimental createFunction deploys with not_supported', async () => {
    for (const path of ['/functions/deployments/bundle/preview', '/functions/deployments/bundle']) {
      const res = await get().api('POST', path, {
        reconciliationScope: { kind: 'environment' },
        functions: [],
      });
      expect(res.status).toBe(501);
      expect(res.body.error.code).toBe('not_supported');
    }
  });

  it('answers the deprecated GET /connection/:id like GET /connections/:id (fast path and express)', async () => {
    const { api, url } = get();
    const plural = await api('GET', '/connections/c1?provider_config_key=github');
    const singular = await api('GET', '/connection/c1?provider_config_key=github', undefined, {
      'accept-encoding': 'application/json',
      'nango-is-sync': 'true',
      'nango-is-dry-run': 'true',
    });
    expect(singular.status).toBe(200);
    expect(singular.body.connection_id).toBe('c1');
    expect(singular.body.credentials).toEqual(plural.body.credentials);
    // A session token never takes the fast path: express answers the same route.
    const res = await fetch(`${url}/connection/missing?provider_config_key=github`, {
      headers: { authorization: `Bearer ${get().secretKey}` },
    });
    expect(res.status).toBe(404);
  });

  it('GET /integrations/:key carries data.provider (nango dryrun reads it)', async () => {
    expect((await get().api('GET', '/integrations/github')).body.data.provider).toBe('github');
  });
  it('tells the listeners the scripts of a deleted integration are deleted (the cascade removes them)', async () => {
    const { api, server } = get();
    expect((await api('POST', '/integrations', { provider: 'github', unique_key: 'doomed' })).status).toBe(
      200,
    );
    const flows = [syncFlow('doomed', 'fetchDoomed'), actionFlow('doomed', 'actDoomed')];
    expect((await deploy(deployBody(flows, { mode: 'integration' }))).status).toBe(200);
    const seen: ScriptsChange[] = [];
    const stop = server.services.scripts.onScriptsChanged((c) => {
      seen.push(c);
    });
    try {
      expect((await api('DELETE', '/integrations/doomed')).status).toBe(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.environmentId).toBe(await envId());
      expect(seen[0]?.deployed).toEqual([]);
      expect(seen[0]?.deleted.map((r) => [r.integration, r.type, r.name]).sort()).toEqual([
        ['doomed', 'action', 'actDoomed'],
        ['doomed', 'sync', 'fetchDoomed'],
      ]);
      // a failed delete tells nobody
      expect((await api('DELETE', '/integrations/doomed')).status).toBe(404);
      expect(seen).toHaveLength(1);
    } finally {
      stop();
    }
  });
});
