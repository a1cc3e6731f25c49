import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessRuntime } from './processRuntime.js';
import { createRuntime } from './runtime.js';
import { FakeHost } from './testing/fakeHost.js';
import { hostGc, runBody } from './testing/helpers.js';
import { cases } from './testing/hostileCases.js';

describe('hostile scripts', () => {
  const runtime = createRuntime({ poolSize: 1, maxConcurrentRuns: 2 });
  let baselineHostHeap = 0;

  const healthy = async (): Promise<void> => {
    const { output, error } = await runBody(
      runtime,
      'return (await nango.get({ endpoint: "/" })).status + Object.keys(Object.prototype).length;',
    );
    expect(error).toBeUndefined();
    expect(output).toBe(200);
  };

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) await healthy();
    hostGc();
    baselineHostHeap = process.memoryUsage().heapUsed;
  });
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
    // At most maxConcurrentRuns (2) isolates stay idle, each back to a small heap.
    expect(stats.isolates).toBeLessThanOrEqual(2);
    expect(stats.idleHeapBytes).toBeLessThan(24 * 1024 * 1024);
    hostGc();
    // Measured: within about 1 MB of the baseline.
    expect(process.memoryUsage().heapUsed - baselineHostHeap).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('hostile scripts in child processes (createProcessRuntime)', () => {
  const runtime = createProcessRuntime({ processes: 1, output: 'ignore' });
  afterAll(() => runtime.dispose());

  // The same table, by behaviour only: the same error code (and message and check), and the runtime
  // still runs a script afterwards. Heap figures belong to the in-process suite above.
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
