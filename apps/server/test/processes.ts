import pg from 'pg';
import { tempDatabase } from './harness.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** A Ferry server running as its own process, from source (no build needed). */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `apps/server/src/main.ts` in a child process with `env` and waits until `/health` answers. */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = 20000 + Math.floor(Math.random() * 30000);
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--conditions=source', '--import', 'tsx', mainTs],
    {
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        FERRY_LOG_LEVEL: env.FERRY_LOG_LEVEL ?? 'warn',
        // The fake providers and OAuth servers run on loopback (see startTestServer).
        FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: env.FERRY_PROXY_ALLOW_PRIVATE_NETWORKS ?? '127.0.0.0/8',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server process exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`server process did not start: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A fresh schema on the test PostgreSQL for server processes to share, as a `FERRY_DATABASE_URL` whose
 * `search_path` points at it; `drop` removes it.
 */
export async function sharedPostgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await tempDatabase('postgres');
  if (db.options.kind !== 'postgres' || !db.options.schema) throw new Error('expected a PostgreSQL schema');
  const admin = new pg.Client({ connectionString: db.options.url });
  await admin.connect();
  await admin.query(`create schema "${db.options.schema}"`);
  await admin.end();
  const url = new URL(db.options.url);
  url.searchParams.set('options', `-c search_path=${db.options.schema}`);
  return { url: url.toString(), drop: db.drop };
}
