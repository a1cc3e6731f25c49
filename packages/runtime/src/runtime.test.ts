import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime } from './runtime.js';
import { compileFixture } from './testing/compile.js';
import { FakeHost, testContext } from './testing/fakeHost.js';
import { runBody } from './testing/helpers.js';

const runtime = createRuntime({ poolSize: 1 });
afterAll(() => runtime.dispose());

describe('run', () => {
  it('calls the entry point of each kind and style', async () => {
    const given = [
      {
        kind: 'sync',
        code: 'module.exports = async (nango) => { await nango.log("legacy cjs"); };',
        want: undefined,
      },
      {
        kind: 'action',
        code: 'exports.default = async (nango, input) => ({ got: input });',
        want: { got: 5 },
      },
      {
        kind: 'action',
        code: 'exports.default = { type: "action", exec: async (nango, input) => input * 2 };',
        want: 10,
      },
      {
        kind: 'webhook',
        code: 'exports.default = { exec() {}, onWebhook: async (nango, p) => p + 1 };',
        want: 6,
      },
      {
        kind: 'webhook',
        code: 'exports.default = () => {}; exports.onWebhookPayloadReceived = async (n, p) => [p];',
        want: [5],
      },
      { kind: 'onEvent', code: 'exports.default = { exec: async () => "ignored" };', want: undefined },
    ] as const;
    for (const { kind, code, want } of given) {
      const result = await runtime.run({ code, kind, input: 5, context: testContext, host: new FakeHost() });
      expect(result, `${kind}: ${code}`).toEqual({ output: want, stats: expect.any(Object) });
    }
  });

  it('reports invalid_script when the bundle has nothing to run', async () => {
    const result = await runtime.run({
      code: 'exports.other = 1;',
      kind: 'sync',
      context: testContext,
      host: new FakeHost(),
    });
    expect(result.error).toMatchObject({
      code: 'invalid_script',
      message: expect.stringMatching(/default function or exec/),
    });
  });

  it('rejects malformed requests with a TypeError', async () => {
    const host = new FakeHost();
    await expect(runtime.run({ code: 1 as never, kind: 'sync', context: testContext, host })).rejects.toThrow(
      TypeError,
    );
    await expect(
      runtime.run({ code: '', kind: 'cron' as never, context: testContext, host }),
    ).rejects.toThrow(/unknown kind/);
    await expect(runtime.run({ code: '', kind: 'sync', context: {} as never, host })).rejects.toThrow(
      /connectionId/,
    );
    await expect(
      runtime.run({ code: '', kind: 'sync', context: testContext, host, limits: { cpuTimeMs: -1 } }),
    ).rejects.toThrow(/positive/);
    await expect(
      runtime.run({ code: '', kind: 'action', input: () => 1, context: testContext, host }),
    ).rejects.toThrow(/copyable/);
  });

  it('counts stats', async () => {
    const { stats } = await runBody(
      runtime,
      'for (let i = 0; i < 3; i++) await nango.get({ endpoint: "/" }); console.log("x");',
    );
    // The last log line travels with the result, not in a host call of its own.
    expect(stats.hostCalls).toBe(3);
    expect(stats.cpuMs).toBeGreaterThan(0);
    expect(stats.wallMs).toBeGreaterThanOrEqual(stats.cpuMs * 0.5);
    expect(stats.heapBytes).toBeGreaterThan(100_000);
  });

  it('ends a run with run_aborted when its signal aborts', async () => {
    const controller = new AbortController();
    const host = new FakeHost(() => {
      controller.abort();
      return { status: 200, headers: {}, data: null };
    });
    const result = await runBody(runtime, 'await nango.get({ endpoint: "/" }); for (;;) {}', {
      host,
      signal: controller.signal,
    });
    expect(result.error?.code).toBe('run_aborted');
  });

  it('ends an aborted run whose host call answers just after the abort', async () => {
    // isolated-vm 5 left about 1 such run in 50 pending forever before run() stopped waiting on it.
    for (let i = 0; i < 150; i++) {
      const controller = new AbortController();
      const host = new FakeHost(
        () =>
          new Promise((resolve) =>
            setTimeout(() => {
              controller.abort();
              const answer = (): void => resolve({ status: 200, headers: {}, data: null });
              if (i % 2) setImmediate(answer);
              else queueMicrotask(answer);
            }, 0),
          ),
      );
      const result = await runBody(runtime, 'await nango.get({ endpoint: "/" }); for (;;) {}', {
        host,
        signal: controller.signal,
      });
      expect(result.error?.code).toBe('run_aborted');
    }
  });

  it('runs scripts concurrently, each in its own isolate', async () => {
    const many = createRuntime({ poolSize: 2, maxConcurrentRuns: 3 });
    let inFlight = 0;
    let started = 0;
    let peak = 0;
    const waiting: (() => void)[] = [];
    // A barrier: calls wait until 3 are in flight (or every run has called), so overlap is certain.
    const host = new FakeHost(async () => {
      started++;
      peak = Math.max(peak, ++inFlight);
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (inFlight === 3 || started === 8) for (const wake of waiting.splice(0)) wake();
      });
      inFlight--;
      return { status: 200, headers: {}, data: 1 };
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runBody(many, `await nango.get({ endpoint: "/" }); return ${i};`, { host }),
      ),
    );
    expect(results.map((r) => r.output)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
    await many.dispose();
    await expect(runBody(many, 'return 1;')).rejects.toThrow(/disposed/);
  });
});

describe('compiled code', () => {
  it('compiles a script once, then reuses it, and a new isolate compiles it from V8’s code cache', async () => {
    const one = createRuntime({ poolSize: 1, maxConcurrentRuns: 1 });
    const code = 'module.exports = async () => 1 + 1;';
    for (let i = 0; i < 3; i++)
      expect(
        (await one.run({ code, kind: 'action', context: testContext, host: new FakeHost() })).output,
      ).toBe(2);
    expect(one.stats().compiles).toEqual({ fromSource: 1, fromCodeCache: 0, reused: 2 });
    // Out of memory replaces the isolate; its successor gets the script from the code cache.
    await runBody(one, 'const a = []; for (;;) a.push({ a });');
    expect((await one.run({ code, kind: 'action', context: testContext, host: new FakeHost() })).output).toBe(
      2,
    );
    expect(one.stats().compiles).toMatchObject({ fromSource: 2, fromCodeCache: 1 });
    await one.dispose();
  });
});

describe('isolation between runs', () => {
  it('leaves no trace of one run in the next', async () => {
    const a = await runBody(
      runtime,
      `globalThis.leak = 1; Object.prototype.polluted = 1; Array.prototype.map = null; JSON.parse = () => 'hacked';
       console.log = () => {}; nango.constructor.prototype.proxy = () => 'hijacked'; require('zod').z.ZodType.prototype.parse = null; return 'a';`,
    );
    expect(a.output).toBe('a');
    const b = await runBody(
      runtime,
      `return [typeof globalThis.leak, typeof ({}).polluted, typeof [].map, JSON.parse('1'), (await nango.get({ endpoint: '/' })).status, typeof require('zod').z.string().parse];`,
    );
    expect(b.output).toEqual(['undefined', 'undefined', 'function', 1, 200, 'function']);
  });

  it('replaces an isolate that still has host calls pending when the script returns', async () => {
    const before = runtime.stats().isolatesReplaced;
    let release: () => void = () => {};
    const host = new FakeHost(
      () => new Promise((resolve) => (release = () => resolve({ status: 200, headers: {}, data: null }))),
    );
    const result = await runBody(
      runtime,
      'nango.get({ endpoint: "/" }).then(() => { for (;;) {} }); return "early";',
      { host },
    );
    expect(result.output).toBe('early');
    release();
    expect(runtime.stats().isolatesReplaced).toBe(before + 1);
    expect((await runBody(runtime, 'return 2;')).output).toBe(2);
  });
});

describe('the nango object', () => {
  it('exposes the context without host calls', async () => {
    const context = {
      ...testContext,
      environmentId: 3,
      activityLogId: 'log-1',
      variant: 'eu',
      lastSyncDate: '2026-03-04T05:06:07.000Z',
      metadata: { a: 1 },
      environmentVariables: [{ name: 'K', value: 'V' }],
    };
    const { output, stats } = await runBody(
      runtime,
      `return { c: nango.connectionId, k: nango.providerConfigKey, p: nango.provider, e: nango.environmentId, l: nango.activityLogId,
        v: nango.variant, d: nango.lastSyncDate.toISOString(), m: await nango.getMetadata(), env: await nango.getEnvironmentVariables(),
        model: nango.modelFullName('Issue') };`,
      { kind: 'webhook', context },
    );
    expect(output).toEqual({
      c: 'conn-1',
      k: 'github',
      p: 'github',
      e: 3,
      l: 'log-1',
      v: 'eu',
      d: context.lastSyncDate,
      m: { a: 1 },
      env: [{ name: 'K', value: 'V' }],
      model: 'Issue::eu',
    });
    expect(stats.hostCalls).toBe(0);
  });

  it('throws proxy errors shaped like axios errors', async () => {
    const host = new FakeHost(() => ({ status: 404, headers: { 'x-id': '1' }, data: { message: 'nope' } }));
    const { output } = await runBody(
      runtime,
      'try { await nango.get({ endpoint: "/x" }); } catch (e) { return [e.message, e.response.status, e.response.data, e.status]; }',
      { host },
    );
    expect(output).toEqual(['Request failed with status code 404', 404, { message: 'nope' }, 404]);
  });

  it('ends a run waiting on a host call that never answers at its wall time', async () => {
    const host = new FakeHost(() => new Promise(() => {}));
    const { error, stats } = await runBody(runtime, 'await nango.get({ endpoint: "/" });', {
      host,
      limits: { wallTimeMs: 200 },
    });
    // The watchdog ended it on the run's own 200 ms limit (the action default is 15 minutes, past the test's
    // timeout), not earlier, while the host call was still pending.
    expect(error).toMatchObject({
      code: 'wall_time_exceeded',
      message: 'The script ran for more than 200 ms',
    });
    expect(stats.wallMs).toBeGreaterThan(200);
    expect(host.requests).toHaveLength(1);
    expect((await runBody(runtime, 'return 3;')).output).toBe(3);
  });

  it('surfaces host failures as host_error', async () => {
    const host = new FakeHost(() => {
      throw new Error('upstream down');
    });
    const { error } = await runBody(runtime, 'await nango.get({ endpoint: "/" });', { host });
    expect(error).toMatchObject({ code: 'host_error', message: 'upstream down' });
  });

  it('reads, merges and clears metadata and checkpoints', async () => {
    const host = new FakeHost();
    const { output } = await runBody(
      runtime,
      `await nango.setMetadata({ a: 1 }); await nango.updateMetadata({ b: 2 }); const m = await nango.getMetadata();
       await nango.saveCheckpoint({ cursor: 'x', n: 1, done: false }); const c = await nango.getCheckpoint(); await nango.clearCheckpoint();
       return { m, c, after: await nango.getCheckpoint() };`,
      { host },
    );
    expect(output).toEqual({ m: { a: 1, b: 2 }, c: { cursor: 'x', n: 1, done: false }, after: null });
    expect(host.metadata).toEqual({ a: 1, b: 2 });
  });

  it('splits large batches and reads records back by id', async () => {
    const host = new FakeHost();
    const { output } = await runBody(
      runtime,
      `await nango.batchSave(Array.from({ length: 2500 }, (_, i) => ({ id: i, at: new Date(0), skip: undefined })), 'R');
       const found = await nango.getRecordsByIds([1, 2, 'missing', ...Array.from({ length: 150 }, (_, i) => i + 10)], 'R');
       return [found.size, found.get(2)];`,
      { kind: 'webhook', host },
    );
    expect(output).toEqual([152, { id: 2, at: '1970-01-01T00:00:00.000Z' }]);
    expect(host.calls.filter((c) => c === 'batchSave')).toHaveLength(3);
    expect(host.calls.filter((c) => c === 'getRecordsByIds')).toHaveLength(2);
  });

  it.each([
    { type: 'cursor', cursor_path_in_response: 'next', cursor_name_in_request: 'after' },
    { type: 'link', link_path_in_response_body: 'next' },
    { type: 'offset', offset_name_in_request: 'offset', limit: 1, limit_name_in_request: 'limit' },
  ])('saves every page of a template that saves in on_page ($type pagination)', async (paginate) => {
    // Two records, one per page; the cursor and link of the last page are empty, offset ends on an empty page.
    const host = new FakeHost((request) => {
      const second =
        request.params?.after === 'p2' || request.endpoint === '/items?p=2' || request.params?.offset === 1;
      const third = request.params?.offset === 2;
      const items = third ? [] : [{ id: second ? 2 : 1 }];
      return {
        status: 200,
        headers: {},
        data: { items, next: second || third ? '' : paginate.type === 'link' ? '/items?p=2' : 'p2' },
      };
    });
    const { error } = await runBody(
      runtime,
      `const config = { endpoint: '/items', paginate: { ...${JSON.stringify(paginate)}, response_path: 'items',
         on_page: async ({ response }) => { await nango.batchSave(response.data.items, 'Item'); } } };
       for await (const page of nango.paginate(config)) await nango.log('page', page.length);`,
      { kind: 'sync', host },
    );
    expect(error).toBeUndefined();
    expect([...host.model('Item').keys()]).toEqual(['1', '2']);
  });

  it('refuses host calls over the default 10 MB before anything is copied out, and splits record batches by size', async () => {
    const big = await runBody(
      runtime,
      'await nango.post({ endpoint: "/", data: "x".repeat(10 * 1024 * 1024) });',
    );
    expect(big.error).toMatchObject({ code: 'host_call_too_large', message: /more than the 10485760/ });
    expect(big.host.calls).toEqual([]);
    // 1,000 records of 20 KB: 20 MB in all, in two host calls of at most 10 MiB (not one of 1,000 records).
    const split = await runBody(
      runtime,
      'const s = "x".repeat(20_000); await nango.batchSave(Array.from({ length: 1000 }, (_, i) => ({ id: i, s })), "M");',
      { kind: 'sync' },
    );
    expect(split.error).toBeUndefined();
    expect(split.host.model('M').size).toBe(1000);
    expect(split.host.calls.filter((c) => c === 'batchSave')).toHaveLength(2);
  });

  it('asks the host for environment variables only when the context has none', async () => {
    const host = new FakeHost();
    const { output } = await runBody(runtime, 'return await nango.getEnvironmentVariables();', { host });
    expect(output).toEqual([{ name: 'FROM_HOST', value: '1' }]);
    expect(host.calls).toEqual(['getEnvironmentVariables']);
  });

  it('runs intervals until cleared, and microtasks', async () => {
    const { output } = await runBody(
      runtime,
      `const order = []; queueMicrotask(() => order.push('micro'));
       await new Promise((resolve) => { let n = 0; const id = setInterval(() => { order.push(++n); if (n === 3) { clearInterval(id); resolve(); } }, 1); });
       return order;`,
    );
    expect(output).toEqual(['micro', 1, 2, 3]);
  });

  it('returns the OAuth token from the connection', async () => {
    const { output } = await runBody(
      runtime,
      'return [await nango.getToken(), (await nango.getConnection()).connection_id];',
    );
    expect(output).toEqual(['token-123', 'conn-1']);
  });

  it('batches logs: levels, console and one host call for many lines', async () => {
    const host = new FakeHost();
    await runBody(
      runtime,
      'for (let i = 0; i < 150; i++) console.log("n", i); await nango.log("careful", { level: "warn" }); console.error(new Error("bad"));',
      { host },
    );
    expect(host.logs).toHaveLength(152);
    expect(host.logs[149]).toMatchObject({ level: 'info', message: 'n 149' });
    expect(host.logs[150]).toMatchObject({ level: 'warn', message: 'careful' });
    expect(host.logs[151]).toMatchObject({ level: 'error', message: expect.stringMatching(/^Error: bad/) });
    expect(host.calls.filter((c) => c === 'log')).toHaveLength(1);
  });
});

describe('globals', () => {
  it('provides the web and node helpers scripts use', async () => {
    const { output, error } = await runBody(
      runtime,
      `const crypto = require('node:crypto'); const { URL: U } = require('url');
       const u = new URL('https://api.x.io/a?b=1'); u.searchParams.set('c', 'd é');
       return [u.toString(), new U('/p', 'https://h.io').href, new URLSearchParams({ a: '1' }).toString(),
         new TextDecoder().decode(new TextEncoder().encode('é')), btoa('hi'), atob('aGk='), Buffer.from('hi').toString('hex'),
         crypto.createHash('md5').update('a').digest('hex'), crypto.createHash('sha1').update('a').digest('base64'),
         crypto.createHmac('sha256', 'k').update('m').digest('hex'), /^[0-9a-f-]{36}$/.test(crypto.randomUUID()),
         globalThis.crypto.getRandomValues(new Uint8Array(4)).length, structuredClone({ d: [1] }),
         await new Promise((r) => setTimeout(() => r('timer'), 1)), typeof require('zod').z.object];`,
    );
    expect(error).toBeUndefined();
    const { createHash, createHmac } = await import('node:crypto');
    expect(output).toEqual([
      'https://api.x.io/a?b=1&c=d+%C3%A9',
      'https://h.io/p',
      'a=1',
      'é',
      'aGk=',
      'hi',
      '6869',
      createHash('md5').update('a').digest('hex'),
      createHash('sha1').update('a').digest('base64'),
      createHmac('sha256', 'k').update('m').digest('hex'),
      true,
      4,
      { d: [1] },
      'timer',
      'function',
    ]);
  });
});

describe('source maps', () => {
  it('maps a thrown error to the script’s own source lines', async () => {
    const code = await compileFixture('throws');
    const result = await runtime.run({ code, kind: 'sync', context: testContext, host: new FakeHost() });
    expect(result.error?.code).toBe('script_runtime_error');
    expect(result.error?.message).toBe('Not a number: twelve');
    const frames = result.error!.stack!.split('\n').slice(1);
    expect(frames[0]).toMatch(/parseAmount \(.*__fixtures__\/throws\.ts:7:\d+\)/);
    expect(frames[1]).toMatch(/fetchData \(.*__fixtures__\/throws\.ts:14:\d+\)/);
    expect(result.error!.stack).not.toMatch(/ferry-sandbox/);
  });

  it('keeps line numbers of a bundle without a source map', async () => {
    const { error } = await runBody(runtime, '\n\nthrow new Error("third");');
    expect(error?.stack).toMatch(/at run \(script\.js:5:7\)/);
  });
});
