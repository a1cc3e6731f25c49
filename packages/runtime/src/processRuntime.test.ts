import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostProxyRequest, HostProxyResponse } from './host.js';
import { HOST_METHODS, ownBuffer, parseChildMessage, serveHostCall } from './processProtocol.js';
import { createProcessRuntime } from './processRuntime.js';
import { createRuntime } from './runtime.js';
import { compileFixture } from './testing/compile.js';
import { FakeHost, testContext, type FakeRoute } from './testing/fakeHost.js';
import { runBody, script } from './testing/helpers.js';
import type { RunRequest, RunResult, Runtime } from './types.js';

const inProcess = createRuntime({ poolSize: 1 });
const processes = createProcessRuntime({ processes: 2, output: 'ignore' });
afterAll(() => Promise.all([inProcess.dispose(), processes.dispose()]));

/** Aborts an in-process runtime on isolated-vm 5 (V8 fatal error): each single allocation is too big. */
const PROCESS_KILLER =
  'const s = "x".repeat(64 << 20); const t = JSON.stringify(s); for (;;) JSON.stringify(t);';

/** A route that lets the test act once the script is waiting on the host, and answers when released. */
function gate(): { route: FakeRoute; entered: Promise<void>; release(): void } {
  let entered!: () => void;
  let release!: () => void;
  const enteredP = new Promise<void>((r) => (entered = r));
  const released = new Promise<void>((r) => (release = r));
  return {
    entered: enteredP,
    release,
    route: async () => {
      entered();
      await released;
      return { status: 200, headers: {}, data: 'late' };
    },
  };
}

/** Runs the same request on both runtimes, each against its own fake host. */
async function onBoth(
  request: Omit<RunRequest, 'host'>,
  route?: FakeRoute,
): Promise<{ runtime: Runtime; result: RunResult; host: FakeHost }[]> {
  return Promise.all(
    [inProcess, processes].map(async (runtime) => {
      const host = new FakeHost(route);
      return { runtime, result: await runtime.run({ ...request, host }), host };
    }),
  );
}

/** What a user sees of a run and of its host, stats and log timestamps aside. */
function observed({ result, host }: { result: RunResult; host: FakeHost }): unknown {
  return {
    output: result.output,
    error: result.error,
    calls: host.calls,
    requests: host.requests,
    records: [...host.records].map(([model, records]) => [model, [...records.values()]]),
    metadata: host.metadata,
    checkpoint: host.checkpoint,
    logs: host.logs.map(({ level, message }) => ({ level, message })),
  };
}

describe('createProcessRuntime', () => {
  let githubIssues = '';
  beforeAll(async () => {
    githubIssues = await compileFixture('github-issues');
  });

  it('runs an action with host calls served in this process, as createRuntime does', async () => {
    const body = `const res = await nango.get({ endpoint: "/user", params: { a: 1 } });
      const connection = await nango.getConnection();
      await nango.log("fetched", res.data.login);
      await nango.setMetadata({ seen: res.data.login });
      return { login: res.data.login, token: connection.credentials.access_token, input };`;
    const route: FakeRoute = () => ({ status: 200, headers: { 'x-a': '1' }, data: { login: 'octo' } });
    const [local, remote] = await onBoth(
      { code: script(body), kind: 'action', input: { n: 1 }, context: testContext },
      route,
    );
    expect(remote!.result.output).toEqual({ login: 'octo', token: 'token-123', input: { n: 1 } });
    expect(observed(remote!)).toEqual(observed(local!));
    expect(remote!.result.stats).toMatchObject({ hostCalls: local!.result.stats.hostCalls });
  });

  it('runs a paginated sync with batchSave, as createRuntime does', async () => {
    const issue = (id: number) => ({ id, number: id, title: `#${id}`, state: 'open', labels: [] });
    const route: FakeRoute = (request) => {
      const page = Number(/page=(\d+)/.exec(request.endpoint)?.[1] ?? 1);
      const next = page < 3 ? `<https://api.github.com/r?page=${page + 1}>; rel="next"` : '';
      return { status: 200, headers: { link: next }, data: [issue(2 * page - 1), issue(2 * page)] };
    };
    const context = {
      ...testContext,
      provider: {
        name: 'github',
        proxy: {
          paginate: {
            type: 'link' as const,
            link_rel_in_response_header: 'next',
            limit_name_in_request: 'per_page',
          },
        },
      },
      metadata: { owner: 'acme', repo: 'app' },
      lastSyncDate: new Date('2026-01-02T03:04:05.000Z'),
    };
    const [local, remote] = await onBoth({ code: githubIssues, kind: 'sync', context }, route);
    expect(remote!.result.error).toBeUndefined();
    expect([...remote!.host.model('GithubIssue').keys()]).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(observed(remote!)).toEqual(observed(local!));
  });

  it('passes bytes both ways: request data and response data', async () => {
    const body = `const res = await nango.post({ endpoint: "/upload", data: new Uint8Array([1, 2, 255]), responseType: "arraybuffer" });
      return { type: Object.prototype.toString.call(res.data), bytes: Array.from(new Uint8Array(res.data.buffer)) };`;
    const route: FakeRoute = () => ({ status: 200, headers: {}, data: new Uint8Array([0, 128, 7]) });
    const [local, remote] = await onBoth({ code: script(body), kind: 'action', context: testContext }, route);
    expect(remote!.result.output).toEqual({ type: expect.any(String), bytes: [0, 128, 7] });
    expect(remote!.result.output).toEqual(local!.result.output);
    const sent = remote!.host.requests[0]!.data;
    expect(sent).toBeInstanceOf(Uint8Array);
    expect([...(sent as Uint8Array)]).toEqual([1, 2, 255]);
    expect(remote!.host.requests).toEqual(local!.host.requests);
  });

  it('passes host errors to the script as createRuntime does', async () => {
    const body = `try { await nango.get({ endpoint: "/" }); } catch (e) { return e.message; }`;
    const route: FakeRoute = () => {
      throw new Error('upstream refused');
    };
    const [local, remote] = await onBoth({ code: script(body), kind: 'action', context: testContext }, route);
    expect(remote!.result.output).toMatch(/upstream refused/);
    expect(remote!.result.output).toEqual(local!.result.output);
  });

  it('contains a script that aborts its process: the run fails, a later run succeeds', async () => {
    const before = processes.stats();
    // A run on the other child is not affected.
    const bystander = gate();
    const calm = runBody(processes, 'return (await nango.get({ endpoint: "/" })).data;', {
      host: new FakeHost(bystander.route),
    });
    await bystander.entered;
    const crashed = await runBody(processes, PROCESS_KILLER);
    expect(crashed.error).toEqual({
      code: 'isolate_failure',
      message: expect.stringMatching(/process crashed \(signal SIG(ABRT|SEGV|TRAP)\)/),
    });
    expect(crashed.stats).toMatchObject({ heapBytes: 0, hostCalls: 0 });
    bystander.release();
    expect((await calm).output).toBe('late');

    const after = await runBody(processes, 'return (await nango.getConnection()).connection_id;');
    expect(after.error).toBeUndefined();
    expect(after.output).toBe('conn-1');
    const stats = processes.stats();
    expect(stats.processesReplaced).toBe(before.processesReplaced + 1);
    expect(stats.processes).toBe(2);
    expect(stats.pids).not.toEqual(before.pids);
  });

  it('fails every run of a child killed mid-run, ignores its late host answers, and replaces it', async () => {
    const runtime = createProcessRuntime({ processes: 1, output: 'ignore' });
    try {
      await runBody(runtime, 'return 1;'); // started and warm
      const [pid] = runtime.stats().pids;
      const first = gate();
      const second = gate();
      const runs = [
        runBody(runtime, 'await nango.get({ endpoint: "/" }); return 1;', {
          host: new FakeHost(first.route),
        }),
        runBody(runtime, 'await nango.get({ endpoint: "/" }); return 2;', {
          host: new FakeHost(second.route),
        }),
      ];
      await Promise.all([first.entered, second.entered]);
      expect(runtime.stats().inFlight).toBe(2);
      process.kill(pid!, 'SIGKILL');
      for (const result of await Promise.all(runs)) {
        expect(result.error).toEqual({
          code: 'isolate_failure',
          message: "The script's process crashed (signal SIGKILL)",
        });
        expect(result.stats.hostCalls).toBe(1);
      }
      // The host answers after the child is gone: nothing throws, nothing is sent.
      first.release();
      second.release();
      const after = await runBody(runtime, 'return (await nango.get({ endpoint: "/" })).status;');
      expect(after.output).toBe(200);
      expect(runtime.stats()).toMatchObject({ processes: 1, processesReplaced: 1, inFlight: 0 });
      expect(runtime.stats().pids).not.toContain(pid);
    } finally {
      await runtime.dispose();
    }
  });

  it('kills a child that stops answering past the wall time and grace', async () => {
    const runtime = createProcessRuntime({ processes: 1, killGraceMs: 200, output: 'ignore' });
    try {
      await runBody(runtime, 'return 1;');
      const [pid] = runtime.stats().pids;
      // A stopped process answers nothing, its own watchdog included.
      const host = new FakeHost(() => {
        process.kill(pid!, 'SIGSTOP');
        return { status: 200, headers: {}, data: null };
      });
      const result = await runBody(runtime, 'await nango.get({ endpoint: "/" }); return 1;', {
        host,
        limits: { wallTimeMs: 300 },
      });
      expect(result.error).toEqual({
        code: 'wall_time_exceeded',
        message: 'The script ran for more than 300 ms; its process was killed',
      });
      expect(result.stats.wallMs).toBeGreaterThanOrEqual(450);
      expect((await runBody(runtime, 'return 2;')).output).toBe(2);
    } finally {
      await runtime.dispose();
    }
  });

  it('ends a run with run_aborted when its signal aborts, before or during the run', async () => {
    const controller = new AbortController();
    const host = new FakeHost(() => {
      controller.abort();
      return { status: 200, headers: {}, data: null };
    });
    const during = await runBody(processes, 'await nango.get({ endpoint: "/" }); for (;;) {}', {
      host,
      signal: controller.signal,
    });
    expect(during.error?.code).toBe('run_aborted');
    const before = await runBody(processes, 'for (;;) {}', { signal: AbortSignal.abort() });
    expect(before.error?.code).toBe('run_aborted');
    expect((await runBody(processes, 'return "still fine";')).output).toBe('still fine');
  });

  it('rejects malformed requests with a TypeError, as createRuntime does', async () => {
    const host = new FakeHost();
    const given: [Partial<RunRequest>, RegExp][] = [
      [{ code: 1 as never }, /"code" must be a string/],
      [{ kind: 'cron' as never }, /unknown kind/],
      [{ context: {} as never }, /connectionId/],
      [{ limits: { cpuTimeMs: -1 } }, /positive/],
      [{ input: () => 1 }, /copyable/],
      [{ context: { ...testContext, lastSyncDate: 'not a date' } }, /lastSyncDate/],
    ];
    for (const [change, want] of given) {
      const request = { code: script('return 1;'), kind: 'action', context: testContext, host, ...change };
      await expect(processes.run(request as RunRequest), String(want)).rejects.toThrow(TypeError);
      await expect(processes.run(request as RunRequest)).rejects.toThrow(want);
    }
    expect(() => createProcessRuntime({ processes: 0 })).toThrow(TypeError);
  });

  it('dispose fails runs in flight with isolate_failure; later runs reject with a TypeError', async () => {
    const runtime = createProcessRuntime({ processes: 2, output: 'ignore' });
    const waiting = gate();
    const pending = runBody(runtime, 'await nango.get({ endpoint: "/" });', {
      host: new FakeHost(waiting.route),
    });
    await waiting.entered;
    const pids = runtime.stats().pids;
    await runtime.dispose();
    expect((await pending).error).toEqual({ code: 'isolate_failure', message: 'The runtime was disposed' });
    waiting.release();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(runtime.stats()).toMatchObject({ processes: 0, inFlight: 0 });
    await expect(runBody(runtime, 'return 1;')).rejects.toThrow(TypeError);
  });
});

describe('the caller process', () => {
  const program = `import { createProcessRuntime } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
    const runtime = createProcessRuntime({ processes: 1 });
    const r = await runtime.run({ code: 'exports.default = async () => 41 + 1;', kind: 'action',
      context: { connectionId: 'c', providerConfigKey: 'p', provider: { name: 'p' } }, host: { log: async () => {} } });
    console.log(r.output, runtime.stats().pids[0]);
    if (process.argv.includes('dispose')) await runtime.dispose();`;

  it.each(['dispose', 'idle'])('exits on its own (%s), and its child with it', async (mode) => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--no-node-snapshot',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      program,
      '--',
      mode,
    ]);
    const [output, pid] = stdout.trim().split(' ');
    expect(output).toBe('42');
    // The child ends when its IPC channel closes. It inherits the program's stdout, and execFile resolves on
    // 'close', once every holder of that pipe has closed it: the child has exited by now (or the test timed
    // out). Orphaned, it then waits for PID 1 to reap it, which can take seconds under load, so a zombie counts
    // as exited; the short wait only covers the instant between closing its files and becoming a zombie (and
    // systems without /proc, where a zombie cannot be told from a live process).
    for (let i = 0; i < 500 && !hasExited(Number(pid)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(hasExited(Number(pid))).toBe(true);
  });
});

/** Whether `pid` has exited: no such process, or (Linux) a zombie its parent has not reaped yet. */
function hasExited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; Z is a zombie, X a process being reaped.
    return /\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // no /proc, or it has just been reaped: asked again
  }
}

describe('the parent end of the host bridge', () => {
  const host = new FakeHost();

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'model', 'route', 'records', 'then'])(
    'refuses %s, which is not a RuntimeHost method',
    async (method) => {
      await expect(serveHostCall(host, method, [])).rejects.toThrow(`Unknown host method "${method}"`);
      expect(host.calls).toEqual([]);
    },
  );

  it('serves every RuntimeHost method with the host as `this`', async () => {
    const given: Record<string, unknown[]> = {
      proxy: [{ method: 'GET', endpoint: '/' } satisfies HostProxyRequest],
      batchSave: ['M', [{ id: 1 }]],
      getRecordsByIds: ['M', ['1']],
      saveCheckpoint: [{ at: 1 }],
      trackDeletesEnd: ['M'],
    };
    for (const method of HOST_METHODS) await serveHostCall(host, method, given[method] ?? ['M', []]);
    expect(host.calls).toEqual(HOST_METHODS);
    await serveHostCall(host, 'batchSave', ['N', [{ id: 2 }]]);
    expect(await serveHostCall(host, 'getRecordsByIds', ['N', ['2']])).toEqual([{ id: 2 }]);
  });

  it('turns a host method throwing synchronously into a rejection', async () => {
    const throwing = Object.assign(new FakeHost(), {
      proxy(): Promise<HostProxyResponse> {
        throw new Error('sync throw');
      },
    });
    await expect(serveHostCall(throwing, 'proxy', [{}])).rejects.toThrow('sync throw');
  });

  it('checks message envelopes from a child', () => {
    const given: [unknown, boolean][] = [
      [{ type: 'ready' }, true],
      [{ type: 'host', runId: 1, callId: 2, method: 'proxy', args: [] }, true],
      [{ type: 'host', runId: 1, callId: 2, method: 'proxy', args: 'x' }, false],
      [{ type: 'host', runId: '1', callId: 2, method: 'proxy', args: [] }, false],
      [{ type: 'result', runId: 1, result: { stats: {} }, stats: {} }, true],
      [{ type: 'result', runId: 1, result: null }, false],
      [{ type: 'rejected', runId: 1, message: 'bad' }, true],
      [{ type: 'exec', command: 'id' }, false],
      [null, false],
      ['ready', false],
    ];
    for (const [message, valid] of given)
      expect(parseChildMessage(message) !== undefined, JSON.stringify(message)).toBe(valid);
  });

  it('copies views that share their buffer (as IPC delivers them), and only those', () => {
    const shared = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    const given: [ArrayBufferView, number[]][] = [
      [shared, [1, 2, 3]],
      [Buffer.from(shared.buffer, 1, 2), [1, 2]],
      [new DataView(shared.buffer, 2, 1), [2]],
    ];
    for (const [view, want] of given) {
      const own = ownBuffer(view);
      expect(own.constructor).toBe(view.constructor);
      expect([...new Uint8Array(own.buffer)]).toEqual(want);
    }
    const whole = new Uint8Array([1]);
    expect(ownBuffer(whole)).toBe(whole);
    expect(ownBuffer('text')).toBe('text');
  });
});
