import { afterAll, expect, it } from 'vitest';
import { createRuntime } from './runtime.js';
import { runBody } from './testing/helpers.js';

const runtime = createRuntime({ poolSize: 1 });
afterAll(() => runtime.dispose());

it('nango.listRecords yields the host pages in order, from a cursor, and deleteRecordsFromPreviousExecutions ends tracking', async () => {
  const { output, error, host } = await runBody(
    runtime,
    `await nango.trackDeletesStart('M');
     await nango.batchSave([{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }, { id: 'e' }], 'M');
     const pages = [];
     for await (const page of nango.listRecords('M')) pages.push(page.map((r) => r.id));
     const from = [];
     for await (const page of nango.listRecords('M', { cursor: '2' })) from.push(...page.map((r) => r.id));
     const { deletedKeys } = await nango.deleteRecordsFromPreviousExecutions('M');
     return { pages, from, deletedKeys };`,
    { kind: 'webhook' },
  );
  expect(error).toBeUndefined();
  expect(output).toEqual({ pages: [['a', 'b'], ['c', 'd'], ['e']], from: ['c', 'd', 'e'], deletedKeys: [] });
  expect(host.calls.filter((c) => c === 'listRecords')).toHaveLength(5);
});
