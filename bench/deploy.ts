/**
 * bench/deploy: `nango deploy`'s two requests against the built server, on SQLite and on PostgreSQL. A project of
 * 50 scripts (25 syncs, 25 actions, each bundle ~6 KB with its inline source map, as `nango compile` writes them):
 * the first deploy (all new), the confirmation with nothing changed, a re-deploy with nothing changed, and a
 * deploy where one script changed. Medians of BENCH_ROUNDS rounds, each on fresh integrations.
 * Targets (issue 12): deploy of 50 scripts < 2 s on SQLite; an unchanged confirmation < 200 ms.
 *
 *   pnpm build && pnpm bench:deploy       (PostgreSQL part: FERRY_BENCH_POSTGRES_URL, default 127.0.0.1:5432/test)
 */
import { actionFlow, deployBody, syncFlow } from '../apps/server/test/deployBodies.js';
import { benchDatabase, startBenchServer } from './lib/ferryServer.js';
import { median } from './lib/load.js';

const pgBase = process.env.FERRY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const SCRIPTS = 50;

function project(integration: string, salt = '') {
  const flows = [];
  for (let i = 0; i < SCRIPTS / 2; i++) {
    flows.push(syncFlow(integration, `sync${i}`, { size: 6000, salt: i === 0 ? salt : '' }));
    flows.push(actionFlow(integration, `action${i}`, { size: 6000 }));
  }
  return flows;
}

async function run(kind: 'sqlite' | 'postgres'): Promise<string[]> {
  const { env, secretKey, drop } = await benchDatabase(kind, pgBase);
  const server = await startBenchServer(env);
  const headers = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown): Promise<{ ms: number; json: unknown }> => {
    const text = JSON.stringify(body);
    const t0 = performance.now();
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: text });
    const json: unknown = await res.json();
    const ms = performance.now() - t0;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return { ms, json };
  };
  const times = {
    first: [] as number[],
    confirm: [] as number[],
    again: [] as number[],
    oneChanged: [] as number[],
  };
  let bodyBytes = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const key = `bench-${r}`;
      await post('/integrations', { provider: 'github', unique_key: key });
      // `integration` mode: each round's deploy leaves the other rounds' scripts alone.
      const body = deployBody(project(key), { mode: 'integration', final: true });
      bodyBytes = JSON.stringify(body).length;
      times.first.push((await post('/sync/deploy', body)).ms);
      const plan = await post('/sync/deploy/confirmation', { ...body, reconcile: false });
      if ((plan.json as { updatedSyncs: unknown[] }).updatedSyncs.length !== 0)
        throw new Error('plan not empty');
      times.confirm.push(plan.ms);
      times.again.push((await post('/sync/deploy', body)).ms);
      const changed = deployBody(project(key, `changed-${r}`), { mode: 'integration', final: true });
      times.oneChanged.push((await post('/sync/deploy', changed)).ms);
    }
  } finally {
    await server.stop();
    await drop();
  }
  const f = (xs: number[]): string => `${median(xs).toFixed(0)} ms`.padStart(8);
  return [
    `${kind.padEnd(8)} | ${f(times.first)} | ${f(times.confirm)} | ${f(times.again)} | ${f(times.oneChanged)} | ${(bodyBytes / 1024).toFixed(0)} KB`,
  ];
}

const rows: string[] = [];
for (const kind of ['sqlite', 'postgres'] as const) rows.push(...(await run(kind)));
console.log(
  `\ndeploy of ${SCRIPTS} scripts (~6 KB bundles), median of ${rounds} rounds (targets: first deploy < 2000 ms on SQLite, unchanged confirmation < 200 ms)\n`,
);
console.log('db       | 1st deploy | confirm (unchanged) | deploy (unchanged) | deploy (1 changed) | body');
console.log(rows.join('\n'));
