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

/**
 * Starts `apps/server/src/main.ts` in a child process with `env`, on a port the kernel picks (`PORT=0`, read
 * back from the server's "listening" log line), and waits until `/health` answers.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--conditions=source', '--import', 'tsx', mainTs],
    {
      env: {
        ...process.env,
        ...env,
        PORT: '0',
        HOST: '127.0.0.1',
        // info: the "listening" line carries the port.
        FERRY_LOG_LEVEL: 'info',
        // The fake providers and OAuth servers run on loopback (see startTestServer).
        FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: env.FERRY_PROXY_ALLOW_PRIVATE_NETWORKS ?? '127.0.0.0/8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = new Promise<number>((resolve, reject) => {
    let pending = '';
    child.stdout?.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg?.startsWith('Ferry is listening') && typeof entry.port === 'number')
            resolve(entry.port);
        } catch {
          // not a log line (the generated secret key, printed once)
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server process exited (${code}): ${stderr}`)));
  });
  port.catch(() => undefined); // awaited below; an exit after a successful start is not an error here
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let url: string;
  try {
    url = `http://127.0.0.1:${await port}`;
  } finally {
    clearTimeout(timeout);
  }
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server process exited (${child.exitCode}): ${stderr}`);
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
