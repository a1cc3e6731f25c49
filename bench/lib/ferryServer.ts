import { spawn, type ChildProcess } from 'node:child_process';
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
