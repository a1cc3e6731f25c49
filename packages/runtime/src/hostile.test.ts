import { afterAll, describe, expect, it } from 'vitest';
import { createProcessRuntime } from './processRuntime.js';
import { createRuntime } from './runtime.js';
import { FakeHost } from './testing/fakeHost.js';
import { runBody } from './testing/helpers.js';
import { cases } from './testing/hostileCases.js';
import { measureHostileMemory, type HostileMemoryFigure } from './testing/measureHostileMemory.js';

describe('hostile scripts', () => {
  const runtime = createRuntime({ poolSize: 1, maxConcurrentRuns: 2 });

  const healthy = async (): Promise<void> => {
    const { output, error } = await runBody(
      runtime,
      'return (await nango.get({ endpoint: "/" })).status + Object.keys(Object.prototype).length;',
    );
    expect(error).toBeUndefined();
    expect(output).toBe(200);
  };

  afterAll(() => runtime.dispose());

  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases)('$name → $code', async (c) => {
    const host = c.host?.() ?? new FakeHost();
    const result = await runBody(runtime, c.body, { kind: c.kind ?? 'action', limits: c.limits, host });
    expect(result.error?.code ?? null).toBe(c.code);
    if (c.message) expect(result.error?.message).toMatch(c.message);
    c.check?.(result, host);
    await healthy();
    const stats = runtime.stats();
    expect(stats.busy).toBe(0);
    // At most maxConcurrentRuns (2) isolates stay idle. (Their heaps, and the host's, are measured below in a
    // process of their own: figures taken in this shared vitest process move with whatever else runs.)
    expect(stats.isolates).toBeLessThanOrEqual(2);
  });
});

const MB = 2 ** 20;

describe('hostile scripts: memory left behind, measured in a child process', () => {
  // Generous bounds, far from the figures (host: under 4 MB over the whole table; idle isolates: under 24 MB),
  // yet below what a real leak leaves: 100 MB kept in the host, or an isolate pooled again with a near-full
  // heap (its limit is 128 MB).
  const HOST_GROWTH = 64 * MB;
  const IDLE_HEAP = 64 * MB;
  const over = (figures: HostileMemoryFigure[]) =>
    figures
      .filter((f) => f.hostGrowthBytes >= HOST_GROWTH || f.idleHeapBytes >= IDLE_HEAP)
      .map(
        (f) =>
          `${f.name}: host +${(f.hostGrowthBytes / MB).toFixed(1)} MB, idle isolates ${(f.idleHeapBytes / MB).toFixed(1)} MB`,
      );

  it('every case leaves the host heap within 64 MB of its baseline and the idle isolates under 64 MB', async () => {
    const figures = await measureHostileMemory();
    // The child ran the whole table, each case to its own outcome, with the runtime idle after each.
    expect(figures.map((f) => [f.name, f.code])).toEqual(cases.map((c) => [c.name, c.code]));
    expect(figures.filter((f) => f.busy !== 0 || f.isolates > 2)).toEqual([]);
    expect(over(figures)).toEqual([]);
  }, 240_000);

  it('fails a case that leaves 100 MB in the host', async () => {
    const figures = await measureHostileMemory(['--only=fetch', '--leak-mb=100']);
    expect(figures.map((f) => [f.name, f.code])).toEqual([['fetch', 'script_runtime_error']]);
    expect(figures[0]!.hostGrowthBytes).toBeGreaterThanOrEqual(HOST_GROWTH);
    expect(over(figures)).toHaveLength(1);
  }, 120_000);
});

describe('hostile scripts in child processes (createProcessRuntime)', () => {
  const runtime = createProcessRuntime({ processes: 1, output: 'ignore' });
  afterAll(() => runtime.dispose());

  // The same table, by behaviour only: the same error code (and message and check), and the runtime
  // still runs a script afterwards. Memory figures are measured above, in a process of their own.
  it.each(cases)('$name → $code', async (c) => {
    const host = c.host?.() ?? new FakeHost();
    const result = await runBody(runtime, c.body, { kind: c.kind ?? 'action', limits: c.limits, host });
    expect(result.error?.code ?? null).toBe(c.code);
    if (c.message) expect(result.error?.message).toMatch(c.message);
    c.check?.(result, host);
    const after = await runBody(runtime, 'return (await nango.get({ endpoint: "/" })).status;');
    expect(after.error).toBeUndefined();
    expect(after.output).toBe(200);
  });
});
