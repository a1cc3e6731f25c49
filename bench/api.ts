/**
 * bench/api: throughput and latency of `GET /connections/:id` (decrypting credentials) against `GET /health` on
 * the same server, on SQLite and on PostgreSQL, plus cold start to ready. The server runs as its own process
 * (the built `apps/server/dist/main.js`), the load generator here.
 *
 *   pnpm build && pnpm bench:api            (PostgreSQL part: FERRY_BENCH_POSTGRES_URL, default 127.0.0.1:5432/test)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { fmt, interleaved, load, median, medianRatio, type LoadResult } from './lib/load.js';
import { benchDatabase, startBenchServer } from './lib/ferryServer.js';

const pgBase = process.env.FERRY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 4000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function run(kind: 'sqlite' | 'postgres'): Promise<string[]> {
  const { env, secretKey, drop } = await benchDatabase(kind, pgBase);
  // cold start: first start migrates an empty database; second start is a restart on an existing one
  const first = await startBenchServer(env);
  const auth = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
  await fetch(`${first.url}/integrations`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ provider: 'github', unique_key: 'gh' }),
  });
  for (let i = 0; i < 1000; i++) {
    const res = await fetch(`${first.url}/connections`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        provider_config_key: 'gh',
        connection_id: `conn-${i}`,
        credentials: {
          type: 'OAUTH2',
          access_token: `gho_${randomBytes(20).toString('hex')}`,
          refresh_token: randomBytes(20).toString('hex'),
          expires_at: '2099-01-01T00:00:00Z',
        },
        metadata: { index: i },
        end_user: { id: `user-${i}`, email: `user${i}@example.com` },
      }),
    });
    if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
  }
  await first.stop();
  const restarted = await startBenchServer(env);

  // Health and the credential read in interleaved rounds (see `interleaved`), medians reported.
  const measure = async (c: number, total: number) => {
    const got = await interleaved(
      {
        health: (ms: number) =>
          load({ origin: restarted.url, path: '/health', concurrency: c, durationMs: ms }),
        conn: (ms: number) =>
          load({
            origin: restarted.url,
            path: '/connections/conn-500?provider_config_key=gh',
            headers: auth,
            concurrency: c,
            durationMs: ms,
          }),
      },
      { rounds, roundMs: Math.max(300, Math.round(total / rounds)), warmupMs: 500 },
    );
    const summary = (runs: LoadResult[]) => ({
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      errors: runs.reduce((n, r) => n + r.errors, 0),
    });
    return { health: summary(got.health), conn: summary(got.conn), ratio: medianRatio(got.health, got.conn) };
  };
  const many = await measure(concurrency, durationMs);
  const one = await measure(1, durationMs / 2);
  const [health, conn, health1, conn1] = [many.health, many.conn, one.health, one.conn];
  await restarted.stop();
  await drop();
  const row = (name: string, c: number, r: { rps: number; p50: number; p99: number; errors: number }) =>
    `| ${kind} | ${name} | ${c} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.errors} |`;
  return [
    row('GET /health', concurrency, health),
    row('GET /connections/:id', concurrency, conn),
    row('GET /health', 1, health1),
    row('GET /connections/:id', 1, conn1),
    `| ${kind} | **ratio health/connection rps** (target ≤ 2.0) | ${concurrency} / 1 | **${fmt(many.ratio)}** / ${fmt(one.ratio)} | | | |`,
    `| ${kind} | cold start to ready, empty db (migrations) / restart (target ≤ 1500 ms) | | **${fmt(first.readyMs, 0)} ms / ${fmt(restarted.readyMs, 0)} ms** | | | |`,
  ];
}

const rows = [
  '| db | measure | concurrency | req/s | p50 ms | p99 ms | errors |',
  '|---|---|---|---|---|---|---|',
];
rows.push(...(await run('sqlite')));
let pgUp = true;
try {
  const c = new pg.Client({ connectionString: pgBase });
  await c.connect();
  await c.end();
} catch {
  pgUp = false;
  rows.push(`| postgres | SKIPPED: ${pgBase} unreachable | | | | | |`);
}
if (pgUp) rows.push(...(await run('postgres')));
console.log(
  `\nbench/api — ${new Date().toISOString()}, node ${process.version}, ${rounds} interleaved rounds, ${durationMs} ms per measure at c=${concurrency} (half at c=1), medians\n`,
);
console.log(rows.join('\n'));
