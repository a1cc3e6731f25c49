import { Pool } from 'undici';

/** Result of a fixed-duration load run. */
export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Sends `path` to `origin` from `concurrency` loops for `durationMs` (after `warmupMs`), over one keep-alive
 * undici pool, and reports throughput and latency percentiles in milliseconds.
 */
export async function load(opts: {
  origin: string;
  path: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  expectStatus?: number;
}): Promise<LoadResult> {
  const pool = new Pool(opts.origin, { connections: opts.concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const expected = opts.expectStatus ?? 200;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'GET', path: opts.path, headers: opts.headers });
        await res.body.dump();
        if (res.statusCode !== expected) errors++;
      } catch {
        errors++;
      }
      if (measuring) latencies.push(performance.now() - t0);
    }
  };
  const loops = Array.from({ length: opts.concurrency }, loop);
  await new Promise((r) => setTimeout(r, opts.warmupMs ?? 500));
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, opts.durationMs));
  measuring = false;
  const elapsed = performance.now() - start;
  stop = true;
  await Promise.all(loops);
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / (elapsed / 1000),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

/** Formats a number with a fixed number of decimals. */
export const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
