import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRuntime } from '../../../packages/runtime/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases, startTestServer, type TestServer } from '../../../apps/server/test/harness.js';
import { FakeHost } from '../../../packages/runtime/src/testing/fakeHost.js';

// Nango's own CLI, unmodified, as a child process against a served Ferry. One `nango init` project is made once
// and reused by every case on both databases; each `deploy` and `dryrun` compiles it again (≈ 5 s each), so the
// cases are few and each checks several things.

const here = fileURLToPath(new URL('.', import.meta.url));
const pkg = join(here, '..');
const bin = join(pkg, 'node_modules', '.bin', 'nango');
const SUCCESS = 'Successfully deployed the functions';

interface CliResult {
  code: number;
  out: string;
}

/** Runs `nango <args>` in `cwd` with no TTY and no stdin: every prompt would read EOF instead of hanging. */
function nango(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      {
        cwd,
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? pkg,
          // No upgrade check against the registry, no prompt, no `npm install` of the project's dependencies.
          NANGO_CLI_UPGRADE_MODE: 'ignore',
          CI: 'true',
          NANGO_HOSTPORT: 'http://127.0.0.1:9',
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, out: `${stdout}\n${stderr}` });
      },
    );
    child.stdin?.end();
  });
}

/** A fake provider API for the dry runs: `/items` listed with a cursor, and created with POST. */
async function startUpstream(): Promise<{ url: string; server: Server }> {
  const items = [
    { id: 1, name: 'one' },
    { id: 2, name: 'two' },
    { id: 3, name: 'three' },
  ];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/items' && req.method === 'GET') {
      const limit = Number(url.searchParams.get('limit') ?? 2);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = items.slice(start, start + limit);
      const next = start + limit < items.length ? String(start + limit) : null;
      res.end(JSON.stringify({ items: page, next_cursor: next }));
    } else if (url.pathname === '/items' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { name } = JSON.parse(body) as { name: string };
        res.statusCode = 201;
        res.end(JSON.stringify({ id: 42, name }));
      });
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let project: string;
let upstream: { url: string; server: Server };
let providersFile: string;
let indexTs: string;

beforeAll(async () => {
  mkdirSync(join(pkg, '.tmp'), { recursive: true });
  const root = mkdtempSync(join(pkg, '.tmp', 'nango-'));
  project = join(root, 'integrations');
  // `--copy`: the example project only, without `npm install` (nango and zod resolve from this package).
  const init = await nango(root, ['init', project, '--copy']);
  expect(init.out).toContain('Nango integrations initialized');
  for (const [name, folder] of [
    ['listItems', 'syncs'],
    ['createItem', 'actions'],
  ] as const) {
    mkdirSync(join(project, 'ferry-demo', folder), { recursive: true });
    copyFileSync(join(here, 'project', `${name}.ts.txt`), join(project, 'ferry-demo', folder, `${name}.ts`));
  }
  indexTs = `${readFileSync(join(project, 'index.ts'), 'utf8')}import './ferry-demo/syncs/listItems.js';\nimport './ferry-demo/actions/createItem.js';\n`;
  writeFileSync(join(project, 'index.ts'), indexTs);
  const compiled = await nango(project, ['compile']);
  expect(compiled.out).toContain('Compiled');
  expect(compiled.code).toBe(0);

  upstream = await startUpstream();
  // Both integrations use the `github` provider (a Nango provider id, which `nango.paginate` needs in a dry run),
  // pointed at the fake upstream.
  providersFile = join(root, 'providers.yaml');
  writeFileSync(providersFile, `github:\n  proxy:\n    base_url: ${upstream.url}\n    retry: null\n`);
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => upstream?.server.close(resolve));
  if (project) rmSync(join(project, '..'), { recursive: true, force: true });
});

for (const kind of databases) {
  describe(`nango CLI 0.71.10 against Ferry [${kind}]`, () => {
    let ts: TestServer & { stop(): Promise<void> };
    let env: Record<string, string>;
    const config = async (): Promise<any[]> => (await ts.api('GET', '/scripts/config')).body;
    const scriptsOf = (c: any[]): string[] =>
      c.flatMap((i) =>
        [...i.syncs, ...i.actions, ...i['on-events']].map(
          (s) => `${i.providerConfigKey}/${s.name}@${s.version}`,
        ),
      );

    beforeAll(async () => {
      writeFileSync(join(project, 'index.ts'), indexTs);
      ts = await startTestServer(kind, { providersFile });
      env = { NANGO_HOSTPORT: ts.url, NANGO_SECRET_KEY_DEV: ts.secretKey };
      for (const key of ['github', 'ferry-demo']) {
        const r = await ts.api('POST', '/integrations', { provider: 'github', unique_key: key });
        expect(r.status).toBe(200);
      }
      const c = await ts.api('POST', '/connections', {
        provider_config_key: 'ferry-demo',
        connection_id: 'conn-1',
        credentials: { type: 'OAUTH2', access_token: 'tok' },
      });
      expect(c.status).toBe(201);
    }, 60_000);

    afterAll(async () => {
      const violations = ts?.violations ?? [];
      await ts?.stop();
      expect(violations).toEqual([]);
    });

    it('deploys the init example and a sync + action project; a second deploy changes nothing', async () => {
      const first = await nango(
        project,
        ['deploy', 'dev', '--no-interactive', '--no-dependency-update'],
        env,
      );
      expect(first.out).toContain(SUCCESS);
      expect(first.code).toBe(0);
      for (const name of ['fetchIssues', 'createIssue', 'listItems', 'createItem'])
        expect(first.out).toContain(name);
      const before = await config();
      expect(scriptsOf(before).sort()).toEqual([
        'ferry-demo/createItem@1.0.0',
        'ferry-demo/listItems@1.0.0',
        'github/createIssue@1.0.0',
        'github/fetchIssues@1.0.0',
        'github/pre-connection-deletion@0.0.1',
      ]);
      const fetchIssues = before.find((i) => i.providerConfigKey === 'github').syncs[0];
      expect(fetchIssues).toMatchObject({
        sdk_version: '0.71.10-zero',
        input: 'SyncMetadata_github_fetchIssues',
      });

      const again = await nango(
        project,
        ['deploy', 'dev', '--no-interactive', '--no-dependency-update'],
        env,
      );
      expect(again.out).toContain(SUCCESS);
      // Unchanged: the same versions (same ids), nothing new stored.
      expect(await config()).toEqual(before);
      const ops = (await ts.api('GET', '/logs/operations?kind=deploy')).body.data;
      expect(ops).toHaveLength(2);
      expect(ops[0].meta.plan.newSyncs).toEqual([]);
    }, 120_000);

    it('stores bundles that @ferry/runtime runs: the CLI-compiled sync and action', async () => {
      const scripts = ts.server.services.scripts;
      const envId = (await ts.server.services.environments.bySecretKey(ts.secretKey.toLowerCase()))!.id;
      const current = await scripts.listCurrent(envId);
      const load = async (name: string) =>
        scripts.getVersion(envId, current.find((v) => v.name === name)!.id);
      const [sync, action] = [await load('listItems'), await load('createItem')];
      expect(sync.sdkVersion).toBe('0.71.10-zero');
      expect(sync.js).toContain('sourceMappingURL=data:application/json;base64,');
      const runtime = createRuntime({ poolSize: 1 });
      try {
        const context = {
          connectionId: 'conn-1',
          providerConfigKey: 'ferry-demo',
          provider: { name: 'github' },
        };
        const host = new FakeHost((req) =>
          req.method === 'POST'
            ? { status: 201, headers: {}, data: { id: 7, name: 'made' } }
            : { status: 200, headers: {}, data: { items: [{ id: 1, name: 'one' }], next_cursor: null } },
        );
        const ran = await runtime.run({
          code: action.js,
          kind: 'action',
          input: { name: 'made' },
          context,
          host,
        });
        expect(ran.error).toBeUndefined();
        expect(ran.output).toEqual({ id: '7', name: 'made' });
        const synced = await runtime.run({ code: sync.js, kind: 'sync', context, host });
        expect(synced.error).toBeUndefined();
        expect([...host.model('Item').values()]).toEqual([{ id: '1', name: 'one' }]);
      } finally {
        await runtime.dispose();
      }
    });

    it('deploys one integration with a version (-i, -v) and one sync (-s)', async () => {
      const integration = await nango(
        project,
        ['deploy', 'dev', '-i', 'ferry-demo', '-v', '2.0.0', '--no-interactive', '--no-dependency-update'],
        env,
      );
      expect(integration.out).toContain(SUCCESS);
      expect(integration.out).toContain('listItems@v2.0.0');
      expect(scriptsOf(await config()).sort()).toEqual([
        'ferry-demo/createItem@2.0.0',
        'ferry-demo/listItems@2.0.0',
        'github/createIssue@1.0.0',
        'github/fetchIssues@1.0.0',
        'github/pre-connection-deletion@0.0.1',
      ]);
      const single = await nango(
        project,
        ['deploy', 'dev', '-s', 'fetchIssues', '--no-interactive', '--no-dependency-update'],
        env,
      );
      expect(single.out).toContain(SUCCESS);
      expect(single.out).toContain('fetchIssues@v1.0.0');
      // `single` removes nothing, even though only one sync was sent.
      expect(scriptsOf(await config())).toHaveLength(5);
    }, 120_000);

    it('pulls a deployed script back (pull --env)', async () => {
      const file = join(project, 'ferry-demo', 'syncs', 'listItems.ts');
      const original = readFileSync(file, 'utf8');
      unlinkSync(file);
      const pulled = await nango(
        project,
        [
          'pull',
          'ferry-demo',
          'listItems',
          '--env',
          'dev',
          '-s',
          '--no-interactive',
          '--no-dependency-update',
        ],
        env,
      );
      expect(pulled.code, pulled.out).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(original);
      writeFileSync(join(project, 'index.ts'), indexTs);
    }, 120_000);

    it('dry-runs a sync and an action: connection and integration read from Ferry, requests proxied through it', async () => {
      const sync = await nango(
        project,
        [
          'dryrun',
          'listItems',
          'conn-1',
          '-e',
          'dev',
          '--auto-confirm',
          '--no-interactive',
          '--no-dependency-update',
        ],
        env,
      );
      expect(sync.code, sync.out).toBe(0);
      expect(sync.out).toContain('probe returned 1 item(s)');
      for (const name of ['one', 'two', 'three']) expect(sync.out).toContain(name);
      const action = await nango(
        project,
        [
          'dryrun',
          'createItem',
          'conn-1',
          '-e',
          'dev',
          '--integration-id',
          'ferry-demo',
          '--input',
          '{"name":"hello"}',
          '--no-interactive',
          '--no-dependency-update',
        ],
        env,
      );
      expect(action.code, action.out).toBe(0);
      expect(action.out).toMatch(/"id":\s*"42"/);
      expect(action.out).toContain('hello');
      const proxied = (await ts.api('GET', '/logs/operations?kind=proxy&connection_id=conn-1')).body.data;
      expect(proxied.length).toBeGreaterThanOrEqual(4);
    }, 120_000);

    // The answer does not depend on the database: checked once.
    it.runIf(kind === databases[0])(
      'prints not_supported for the experimental createFunction scripts',
      async () => {
        const fnProject = join(project, '..', 'functions');
        const init = await nango(join(project, '..'), ['init', fnProject, '--copy']);
        expect(init.out).toContain('Nango integrations initialized');
        mkdirSync(join(fnProject, 'ferry-demo', 'functions'), { recursive: true });
        copyFileSync(
          join(here, 'project', 'echo.ts.txt'),
          join(fnProject, 'ferry-demo', 'functions', 'echo.ts'),
        );
        writeFileSync(join(fnProject, 'index.ts'), "import './ferry-demo/functions/echo.js';\n");
        const res = await nango(
          fnProject,
          ['deploy', 'dev', '--no-interactive', '--no-dependency-update'],
          env,
        );
        expect(res.out).toContain('not_supported');
        expect(res.out).toContain('createFunction');
        expect(res.out).not.toContain(SUCCESS);
      },
      120_000,
    );

    it('refuses a destructive plan under CI without --allow-destructive, then removes the sync with it', async () => {
      writeFileSync(
        join(project, 'index.ts'),
        indexTs.replace("import './ferry-demo/syncs/listItems.js';\n", ''),
      );
      try {
        const refused = await nango(
          project,
          ['deploy', 'dev', '--no-interactive', '--no-dependency-update'],
          env,
        );
        expect(refused.code).toBe(11);
        expect(refused.out).not.toContain(SUCCESS);
        expect(refused.out).toContain('--allow-destructive');
        expect(scriptsOf(await config())).toContain('ferry-demo/listItems@2.0.0');

        const removed = await nango(
          project,
          [
            'deploy',
            'dev',
            '--auto-confirm',
            '--allow-destructive',
            '--no-interactive',
            '--no-dependency-update',
          ],
          env,
        );
        expect(removed.out).toContain(SUCCESS);
        expect(removed.code).toBe(0);
        const after = scriptsOf(await config());
        expect(after.some((s) => s.startsWith('ferry-demo/listItems'))).toBe(false);
        // createItem was 2.0.0 and is sent as 1.0.0 again: a new version; the others are unchanged.
        expect(after.sort()).toEqual([
          'ferry-demo/createItem@1.0.0',
          'github/createIssue@1.0.0',
          'github/fetchIssues@1.0.0',
          'github/pre-connection-deletion@0.0.1',
        ]);
      } finally {
        writeFileSync(join(project, 'index.ts'), indexTs);
      }
    }, 120_000);
  });
}
