/**
 * bench/proxy: one run, three targets against the same local upstream (node:http answering 1 KB of JSON),
 * each process on its own: (a) the upstream directly, (b) a bare node:http + undici `Pool.stream` proxy, the
 * physical limit of any proxy here, and (c) Ferry's `/proxy` with a real connection, auth injection and
 * activity logging on. Prints requests/s and p50/p99 at concurrency 1 and 50, the ratios c/a and c/b, and
 * Ferry's peak RSS while it streams a 100 MB download.
 *
 *   pnpm build && pnpm bench:proxy     (BENCH_DURATION_MS per target and concurrency, default 6000,
 *                                       in BENCH_ROUNDS interleaved rounds, default 5)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  downloadWatchingRss,
  fmt,
  freePort,
  interleaved,
  load,
  median,
  medianRatio,
  type LoadResult,
} from './lib/load.js';
import { startBenchServer } from './lib/ferryServer.js';

const helpers = fileURLToPath(new URL('./lib/servers.ts', import.meta.url));
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 6000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

async function helper(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', helpers, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitReady(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const upPort = await freePort();
const upstream = await helper(['upstream', String(upPort)]);
const upOrigin = `http://127.0.0.1:${upPort}`;
const barePort = await freePort();
const bare = await helper(['bare', String(barePort), upOrigin]);

const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-proxy-'));
const providersFile = join(dataDir, 'providers.yaml');
writeFileSync(
  providersFile,
  [
    'bench-api:',
    '  display_name: Bench API',
    '  auth_mode: OAUTH2',
    '  authorization_url: https://example.com/authorize',
    '  token_url: https://example.com/token',
    '  docs: https://example.com/docs',
    '  categories: [dev-tools]',
    '  proxy:',
    `    base_url: ${upOrigin}`,
    '    headers:',
    "      x-api-version: '2024-01-01'",
    '',
  ].join('\n'),
);
const secretKey = randomUUID();
const ferryServer = await startBenchServer({
  FERRY_DATA_DIR: dataDir,
  FERRY_SECRET_KEY: secretKey,
  FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  FERRY_PROVIDERS_FILE: providersFile,
  FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '127.0.0.1',
});
const server = ferryServer.child;
const ferryOrigin = ferryServer.url;
const json = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
for (const [path, body] of [
  [
    '/integrations',
    {
      provider: 'bench-api',
      unique_key: 'bench',
      credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' },
    },
  ],
  [
    '/connections',
    {
      provider_config_key: 'bench',
      connection_id: 'conn-1',
      credentials: {
        type: 'OAUTH2',
        access_token: `tok_${randomBytes(20).toString('hex')}`,
        refresh_token: 'r',
        expires_at: '2099-01-01T00:00:00Z',
      },
    },
  ],
] as const) {
  const res = await fetch(ferryOrigin + path, { method: 'POST', headers: json, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
}
const proxyHeaders = {
  authorization: `Bearer ${secretKey}`,
  'connection-id': 'conn-1',
  'provider-config-key': 'bench',
};

const bareOrigin = `http://127.0.0.1:${barePort}`;
const targets = {
  a: (concurrency: number, ms: number) =>
    load({ origin: upOrigin, path: '/json', concurrency, durationMs: ms }),
  b: (concurrency: number, ms: number) =>
    load({ origin: bareOrigin, path: '/json', concurrency, durationMs: ms, cpuPid: bare.pid }),
  c: (concurrency: number, ms: number) =>
    load({
      origin: ferryOrigin,
      path: '/proxy/json',
      headers: proxyHeaders,
      concurrency,
      durationMs: ms,
      cpuPid: server.pid,
    }),
};
type Key = keyof typeof targets;
// Each concurrency in interleaved rounds (see `interleaved`): the shared 2 cores made single long runs swing.
const roundMs = Math.max(500, Math.round(durationMs / rounds));
const results: Record<Key, Record<number, LoadResult[]>> = { a: {}, b: {}, c: {} };
for (const concurrency of [1, 50]) {
  const got = await interleaved(
    {
      a: (ms: number) => targets.a(concurrency, ms),
      b: (ms: number) => targets.b(concurrency, ms),
      c: (ms: number) => targets.c(concurrency, ms),
    },
    { rounds, roundMs },
  );
  for (const k of ['a', 'b', 'c'] as const) results[k][concurrency] = got[k];
}
const big = await downloadWatchingRss({
  origin: ferryOrigin,
  path: '/proxy/big?mb=100',
  headers: proxyHeaders,
  pid: server.pid ?? 0,
});
const bareBig = await downloadWatchingRss({ origin: bareOrigin, path: '/big?mb=100', pid: bare.pid ?? 0 });
const opsRes = await fetch(`${ferryOrigin}/logs/operations?kind=proxy&limit=1`, { headers: json });
const logged = ((await opsRes.json()) as { data: unknown[] }).data.length > 0;

await Promise.all([stop(server), stop(bare), stop(upstream)]);
rmSync(dataDir, { recursive: true, force: true });

const names = {
  a: '(a) upstream directly',
  b: '(b) bare node:http + Pool.stream proxy',
  c: '(c) Ferry /proxy (auth + logging)',
};
const runs = (k: Key, c: number) => results[k][c]!;
const med = (k: Key, c: number, f: (r: LoadResult) => number) => median(runs(k, c).map(f));
const ratio = (x: Key, y: Key, c: number) => medianRatio(runs(x, c), runs(y, c));
const rows = [
  '| target | concurrency | req/s | p50 ms | p99 ms | errors | CPU µs/req of the proxy |',
  '|---|---|---|---|---|---|---|',
];
for (const concurrency of [1, 50]) {
  for (const k of ['a', 'b', 'c'] as const) {
    const errors = runs(k, concurrency).reduce((n, r) => n + r.errors, 0);
    const cpu =
      k === 'a'
        ? ''
        : fmt(
            med(k, concurrency, (r) => r.cpuUsPerRequest ?? NaN),
            0,
          );
    rows.push(
      `| ${names[k]} | ${concurrency} | ${fmt(
        med(k, concurrency, (r) => r.rps),
        0,
      )} | ${fmt(
        med(k, concurrency, (r) => r.p50),
        3,
      )} | ${fmt(
        med(k, concurrency, (r) => r.p99),
        3,
      )} | ${errors} | ${cpu} |`,
    );
  }
}
const perRound = (x: Key, y: Key, c: number) =>
  runs(x, c)
    .map((r, i) => fmt(r.rps / runs(y, c)[i]!.rps))
    .join(' ');
const addedP50 = (c: number) => median(runs('c', c).map((r, i) => r.p50 - runs('a', c)[i]!.p50));
rows.push(
  `| **c/a** req/s | 1 / 50 | **${fmt(ratio('c', 'a', 1))} / ${fmt(ratio('c', 'a', 50))}** | | | | |`,
  `| **c/b** req/s (target ≥ 0.7 at 50) | 1 / 50 | **${fmt(ratio('c', 'b', 1))} / ${fmt(ratio('c', 'b', 50))}** (rounds at 50: ${perRound('c', 'b', 50)}) | | | | |`,
  `| b/a req/s (physical limit) | 1 / 50 | ${fmt(ratio('b', 'a', 1))} / ${fmt(ratio('b', 'a', 50))} | | | | |`,
  `| **added p50 over (a)** (target ≤ 0.5 ms at 1) | 1 / 50 | **${fmt(addedP50(1), 3)} ms** / ${fmt(addedP50(50), 3)} ms | | | | |`,
  `| **Ferry RSS streaming 100 MB** (target growth < 30 MB) | 1 | **+${fmt((big.rssPeak - big.rssBefore) / 2 ** 20, 1)} MB** (${fmt(big.rssBefore / 2 ** 20, 0)} → ${fmt(big.rssPeak / 2 ** 20, 0)} MB, ${fmt(big.bytes / 2 ** 20, 0)} MB in ${fmt(big.ms, 0)} ms) | | | | |`,
  `| bare proxy RSS streaming 100 MB (for comparison) | 1 | +${fmt((bareBig.rssPeak - bareBig.rssBefore) / 2 ** 20, 1)} MB (${fmt(bareBig.rssBefore / 2 ** 20, 0)} → ${fmt(bareBig.rssPeak / 2 ** 20, 0)} MB) | | | | |`,
);
console.log(
  `\nbench/proxy — ${new Date().toISOString()}, node ${process.version}, ${rounds} rounds of ${roundMs} ms per target and concurrency (medians), activity log ${logged ? 'on' : 'EMPTY?'}\n`,
);
console.log(rows.join('\n'));
