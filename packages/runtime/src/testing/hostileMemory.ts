// Runs the hostile-script table in a process of its own and prints what each case left behind in the host:
// its heap (plus external memory, where a Buffer or an ExternalCopy lives) after a full GC, against a baseline
// taken after warm-up, and the pool's idle isolates. hostile.test.ts runs it and asserts generous bounds; the
// figures are the process's own, so other test files running at the same time do not move them. Started by
// measureHostileMemory() (hostile.test.ts, bench/runtime.ts).
//
// A script, not a module to import (importing it runs the table).
// Run: node --no-node-snapshot --import tsx packages/runtime/src/testing/hostileMemory.ts [--only=<case name>]
//      [--leak-mb=<n>]   (--leak-mb keeps n MB in the host after every case: the check that the test can fail)
import { parseArgs } from 'node:util';
import { createRuntime } from '../runtime.js';
import { FakeHost } from './fakeHost.js';
import { hostGc, runBody } from './helpers.js';
import { cases } from './hostileCases.js';
import type { HostileMemoryFigure } from './measureHostileMemory.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, 'leak-mb': { type: 'string' } } });
const selected = values.only === undefined ? cases : cases.filter((c) => c.name === values.only);
if (selected.length === 0) throw new Error(`No hostile case is named ${values.only}`);
const leakBytes = Number(values['leak-mb'] ?? 0) * 2 ** 20;

const hostBytes = (): number => {
  hostGc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
};

const runtime = createRuntime({ poolSize: 1, maxConcurrentRuns: 2 });
const healthy = async (): Promise<void> => {
  const { output, error } = await runBody(
    runtime,
    'return (await nango.get({ endpoint: "/" })).status + Object.keys(Object.prototype).length;',
  );
  if (error || output !== 200)
    throw new Error(`The run after a hostile case failed: ${JSON.stringify(error)}`);
};

for (let i = 0; i < 5; i++) await healthy();
const baseline = hostBytes();
const retained: string[] = [];
const figures: HostileMemoryFigure[] = [];
for (const c of selected) {
  const host = c.host?.() ?? new FakeHost();
  const result = await runBody(runtime, c.body, { kind: c.kind ?? 'action', limits: c.limits, host });
  // A flat one-byte string on the host heap, as a runtime would keep that copied a run's data out and held it.
  if (leakBytes > 0) retained.push(Buffer.alloc(leakBytes, 0x78).toString('latin1'));
  await healthy();
  const stats = runtime.stats();
  figures.push({
    name: c.name,
    code: result.error?.code ?? null,
    hostGrowthBytes: hostBytes() - baseline,
    idleHeapBytes: stats.idleHeapBytes,
    isolates: stats.isolates,
    busy: stats.busy,
  });
}
await runtime.dispose();
// The last line on stdout: the figures, as JSON.
console.log(JSON.stringify(figures));
