/**
 * bench/refresh: latency of `getConnection` during refresh storms — many concurrent reads of one expired token,
 * of which exactly one reaches the provider — against plain reads of a fresh token on the same server; and the
 * browser SDK's size next to `@nangohq/frontend`'s.
 *
 *   pnpm build && pnpm bench:refresh
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { Pool } from 'undici';
import { fmt } from './lib/load.js';
import { startBenchServer } from './lib/ferryServer.js';

const STORMS = Number(process.env.BENCH_STORMS ?? 20);
const PER_STORM = Number(process.env.BENCH_STORM_SIZE ?? 200);
const PROVIDER_DELAY_MS = 50;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

// A token endpoint that takes PROVIDER_DELAY_MS to answer, like a real provider.
let tokenCalls = 0;
const tokenServer = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    tokenCalls++;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: `a-${tokenCalls}`, expires_in: 3600 }));
    }, PROVIDER_DELAY_MS);
  });
});
await new Promise<void>((r) => tokenServer.listen(0, '127.0.0.1', r));
const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;

const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-refresh-'));
const providersFile = join(dataDir, 'providers.yaml');
writeFileSync(
  providersFile,
  `bench-oauth:\n  display_name: Bench\n  auth_mode: OAUTH2\n  authorization_url: ${tokenUrl}\n  token_url: ${tokenUrl}\n  docs: https://example.com\n`,
);
const secretKey = randomUUID();
const ferry = await startBenchServer({
  FERRY_DATA_DIR: dataDir,
  FERRY_SECRET_KEY: secretKey,
  FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  FERRY_PROVIDERS_FILE: providersFile,
  // The token endpoint runs on 127.0.0.1: token requests go through the same SSRF guard as the proxy.
  FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '127.0.0.1',
});
const origin = ferry.url;
const headers = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
const pool = new Pool(origin, { connections: PER_STORM });
async function call(method: string, path: string, body?: unknown): Promise<number> {
  const res = await pool.request({
    method: method,
    path,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}
await call('POST', '/integrations', {
  provider: 'bench-oauth',
  unique_key: 'bench',
  credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' },
});
await call('POST', '/connections', {
  provider_config_key: 'bench',
  connection_id: 'fresh',
  credentials: { type: 'OAUTH2', access_token: 't', refresh_token: 'r', expires_at: '2099-01-01T00:00:00Z' },
});

async function burst(connectionId: string): Promise<number[]> {
  return Promise.all(
    Array.from({ length: PER_STORM }, async () => {
      const t0 = performance.now();
      const status = await call('GET', `/connections/${connectionId}?provider_config_key=bench`);
      if (status !== 200) throw new Error(`status ${status}`);
      return performance.now() - t0;
    }),
  );
}

// warm-up, then plain bursts of the fresh token and storms on expired ones, alternating
await burst('fresh');
const plain: number[] = [];
const storm: number[] = [];
for (let i = 0; i < STORMS; i++) {
  await call('POST', '/connections', {
    provider_config_key: 'bench',
    connection_id: `storm-${i}`,
    credentials: {
      type: 'OAUTH2',
      access_token: 'old',
      refresh_token: 'r',
      expires_at: new Date(Date.now() - 1000).toISOString(),
    },
  });
  plain.push(...(await burst('fresh')));
  storm.push(...(await burst(`storm-${i}`)));
}
await ferry.stop();
await pool.close();
tokenServer.close();
rmSync(dataDir, { recursive: true, force: true });

// The SDK's own size check bundles @nangohq/frontend with the same bundler, so the two figures compare.
const sizeScript = fileURLToPath(new URL('../packages/frontend/scripts/size.mjs', import.meta.url));
const sizes = existsSync(fileURLToPath(new URL('../packages/frontend/dist/index.js', import.meta.url)))
  ? execFileSync(process.execPath, [sizeScript], { encoding: 'utf8' }).trim()
  : '@ferry/frontend: not built (run pnpm build)';

console.log(
  `\nbench/refresh — ${new Date().toISOString()}, node ${process.version}; ${STORMS} storms × ${PER_STORM} concurrent reads, provider answers in ${PROVIDER_DELAY_MS} ms\n`,
);
console.log('| measure | p50 ms | p99 ms | max ms |');
console.log('|---|---|---|---|');
console.log(
  `| getConnection, fresh token (baseline, same bursts) | ${fmt(percentile(plain, 50))} | ${fmt(percentile(plain, 99))} | ${fmt(Math.max(...plain))} |`,
);
console.log(
  `| getConnection during a refresh storm | ${fmt(percentile(storm, 50))} | ${fmt(percentile(storm, 99))} | ${fmt(Math.max(...storm))} |`,
);
console.log(
  `\nrefresh requests that reached the provider: ${tokenCalls} for ${STORMS} storms (exactly one per storm is right)`,
);
console.log(`\n${sizes}`);
