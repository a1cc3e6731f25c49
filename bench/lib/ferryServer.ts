import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { freePort } from './load.js';

const serverEntry = fileURLToPath(new URL('../../apps/server/dist/main.js', import.meta.url));

/** A built Ferry server running as its own process, as production runs it. */
export interface BenchServer {
  child: ChildProcess;
  url: string;
  port: number;
  /** Milliseconds from spawn until `/health` answered. */
  readyMs: number;
  stop(): Promise<void>;
}

/**
 * Starts `apps/server/dist/main.js` (run `pnpm build` first) on a free port with `env`, and waits for `/health`.
 * Node flags in `FERRY_BENCH_NODE_ARGS` are passed to the server.
 */
export async function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  const port = await freePort();
  const extra = process.env.FERRY_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--no-node-snapshot', ...extra, serverEntry], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', FERRY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    child,
    url,
    port,
    readyMs: performance.now() - t0,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The environment of a bench server with its own fresh database, and how to remove that database. */
export interface BenchDatabase {
  env: Record<string, string>;
  secretKey: string;
  drop(): Promise<void>;
}

/**
 * A fresh data folder (SQLite) or PostgreSQL schema under `pgBase`, with a secret key and an encryption key, as the
 * environment {@link startBenchServer} takes.
 */
export async function benchDatabase(kind: 'sqlite' | 'postgres', pgBase: string): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const secretKey = randomUUID();
  const env: Record<string, string> = {
    FERRY_DATA_DIR: dataDir,
    FERRY_SECRET_KEY: secretKey,
    FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  const schema = kind === 'postgres' ? `ferry_bench_${randomBytes(4).toString('hex')}` : undefined;
  const query = async (text: string): Promise<void> => {
    const client = new pg.Client({ connectionString: pgBase });
    await client.connect();
    await client.query(text);
    await client.end();
  };
  if (schema) {
    await query(`create schema ${schema}`);
    const u = new URL(pgBase);
    u.searchParams.set('options', `-c search_path=${schema}`);
    env.FERRY_DATABASE_URL = u.toString();
  }
  return {
    env,
    secretKey,
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) await query(`drop schema ${schema} cascade`);
    },
  };
}
