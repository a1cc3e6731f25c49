import { Pool } from 'undici';

/** Result of a fixed-duration load run. */
export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** CPU time process `cpuPid` spent per measured request, in microseconds (when `cpuPid` is given). */
  cpuUsPerRequest?: number;
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
  /** A process whose CPU time per request to report (Linux), e.g. the proxy under test. */
  cpuPid?: number;
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
  const cpuBefore = opts.cpuPid ? await cpuMsOf(opts.cpuPid) : 0;
  measuring = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, opts.durationMs));
  measuring = false;
  const cpuAfter = opts.cpuPid ? await cpuMsOf(opts.cpuPid) : 0;
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
    ...(opts.cpuPid
      ? { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / Math.max(1, latencies.length) }
      : {}),
  };
}

/** Formats a number with a fixed number of decimals. */
export const fmt = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** Resident set size of a process (Linux `/proc/<pid>/status`), in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? NaN) * 1024;
}

/**
 * Downloads `path` from `origin`, discarding the body, while sampling the RSS of process `pid` every
 * 10 ms; returns the bytes received and the RSS before and at its peak.
 */
export async function downloadWatchingRss(opts: {
  origin: string;
  path: string;
  headers?: Record<string, string>;
  pid: number;
}): Promise<{ bytes: number; rssBefore: number; rssPeak: number; ms: number }> {
  const rssBefore = await rssOf(opts.pid);
  let rssPeak = rssBefore;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      rssPeak = Math.max(rssPeak, await rssOf(opts.pid));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const pool = new Pool(opts.origin, { connections: 1 });
  const t0 = performance.now();
  let bytes = 0;
  try {
    const res = await pool.request({ method: 'GET', path: opts.path, headers: opts.headers });
    for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  } finally {
    done = true;
    await sampler;
    await pool.close();
  }
  return { bytes, rssBefore, rssPeak, ms: performance.now() - t0 };
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux `/proc/<pid>/stat`). */
export async function cpuMsOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
}

/** A TCP port that is free right now on 127.0.0.1 (asked of the OS, not guessed). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/**
 * Measures several targets in `rounds` short rounds, back to back (the order reversed every other round), after
 * one unmeasured warm-up round: the targets see the same machine, and a hiccup of a shared machine spoils one
 * round rather than one target. Report medians over the rounds, and ratios as medians of per-round ratios.
 */
export async function interleaved<K extends string>(
  targets: Record<K, (durationMs: number) => Promise<LoadResult>>,
  opts: { rounds: number; roundMs: number; warmupMs?: number },
): Promise<Record<K, LoadResult[]>> {
  const keys = Object.keys(targets) as K[];
  const out = {} as Record<K, LoadResult[]>;
  for (const k of keys) {
    await targets[k](opts.warmupMs ?? 1000);
    out[k] = [];
  }
  for (let round = 0; round < opts.rounds; round++) {
    const order = round % 2 ? [...keys].reverse() : keys;
    for (const k of order) out[k].push(await targets[k](opts.roundMs));
  }
  return out;
}

/** The median over rounds of `x`'s req/s divided by `y`'s in the same round. */
export function medianRatio(x: LoadResult[], y: LoadResult[]): number {
  return median(x.map((r, i) => r.rps / (y[i]?.rps ?? NaN)));
}
