import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** A caller with nothing else to wait on: only the run in progress may keep its process alive. */
const program = `import { createRuntime } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
  const runtime = createRuntime({ poolSize: 1 });
  const r = await runtime.run({ code: 'exports.default = async () => { await new Promise(() => {}); };',
    kind: 'action', limits: { wallTimeMs: 300 },
    context: { connectionId: 'c', providerConfigKey: 'p', provider: { name: 'p' } }, host: { log: async () => {} } });
  console.log(r.error?.code);`;

describe('the watchdog', () => {
  it('keeps the caller process alive while a run is in progress, then lets it exit', async () => {
    const run = promisify(execFile)(process.execPath, [
      '--no-node-snapshot',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      program,
    ]);
    // Without the watchdog holding the event loop, Node exits with code 13 (unsettled top-level await).
    await expect(run).resolves.toMatchObject({ stdout: 'wall_time_exceeded\n' });
  });
});
