import { expect } from 'vitest';
import type { RuntimeErrorCode } from '../errors.js';
import type { RunLimits } from '../limits.js';
import type { RunKind, RunResult } from '../types.js';
import type { FakeHost } from './fakeHost.js';

/** One hostile script and how the runtime must contain it. */
export interface Case {
  name: string;
  body: string;
  kind?: RunKind;
  limits?: Partial<RunLimits>;
  /** The error code the run must end with; null when the script must be contained yet succeed. */
  code: RuntimeErrorCode | null;
  message?: RegExp;
  check?: (result: RunResult, host: FakeHost) => void;
  host?: () => FakeHost;
}

const fast = { cpuTimeMs: 300, wallTimeMs: 3000 };
/** A host-call limit below the default (10 MB), so that breaching it stays cheap. */
const small = { maxHostCallBytes: 1 << 20 };

/** The hostile-script suite: each case has its own expected error code (null: contained, yet succeeds). */
export const cases: Case[] = [
  { name: 'infinite loop', body: 'for (;;) {}', limits: fast, code: 'cpu_time_exceeded' },
  {
    name: 'infinite loop after a host call',
    body: 'await nango.get({ endpoint: "/" }); while (true) {}',
    limits: fast,
    code: 'cpu_time_exceeded',
  },
  { name: 'infinite promise chain', body: 'for (;;) await null;', limits: fast, code: 'cpu_time_exceeded' },
  {
    name: 'infinite then() recursion',
    body: 'const f = () => Promise.resolve().then(f); await f();',
    limits: fast,
    code: 'cpu_time_exceeded',
  },
  {
    name: 'loop left running after returning',
    body: '(async () => { await null; for (;;) {} })(); return 1;',
    limits: fast,
    code: 'cpu_time_exceeded',
  },
  {
    name: 'array growth',
    body: 'const a = []; for (let i = 0; ; i++) a.push({ i, s: "x" + i });',
    code: 'out_of_memory',
  },
  // Ends either at the heap limit (flattened strings) or at V8's maximum string length (cons strings).
  {
    name: 'string doubling',
    body: 'let s = "x".repeat(1 << 20); const keep = []; for (;;) { s = s + s; keep.push(s.charCodeAt(s.length - 1)); }',
    code: 'out_of_memory',
  },
  {
    name: 'one huge string',
    body: 'const s = "x".repeat(64 << 20); return JSON.stringify(s + s).length;',
    code: 'out_of_memory',
  },
  {
    name: 'typed array bomb',
    body: 'const keep = []; for (;;) keep.push(new Uint8Array(16 << 20).fill(1));',
    code: 'out_of_memory',
  },
  { name: 'deep recursion', body: 'const f = (n) => f(n + 1) + 1; f(0);', code: 'stack_overflow' },
  {
    name: 'constructor escape to process',
    body: 'return nango.constructor.constructor("return process")().mainModule;',
    code: 'script_runtime_error',
    message: /process is not defined/,
  },
  {
    name: 'Function escape to globalThis',
    body: 'const g = Function("return this")(); return [typeof g.process, typeof g.require, typeof g.fetch, typeof g.Deno];',
    code: null,
    check: (r) => expect(r.output).toEqual(['undefined', 'undefined', 'undefined', 'undefined']),
  },
  {
    name: 'require child_process',
    body: 'require("child_process").execSync("id");',
    code: 'module_not_allowed',
  },
  { name: 'require node:fs', body: 'require("node:fs");', code: 'module_not_allowed' },
  {
    name: 'process.env',
    body: 'return process.env;',
    code: 'script_runtime_error',
    message: /process is not defined/,
  },
  {
    name: 'fetch',
    body: 'await fetch("http://127.0.0.1/");',
    code: 'script_runtime_error',
    message: /fetch is not defined/,
  },
  {
    name: 'prototype pollution aimed at the host',
    body: `Object.prototype.polluted = 'yes'; Array.prototype.push = () => { throw new Error('patched'); };
      Object.defineProperty(Object.prototype, 'id', { set() { throw new Error('setter'); }, get() { return 'fake'; }, configurable: true });
      JSON.stringify = () => '{"x":1}';
      await nango.batchSave([{ id: 'a', nested: { n: 1 } }], 'M'); return { ok: true };`,
    kind: 'action',
    code: 'script_runtime_error',
    message: /batchSave is not a function/,
  },
  {
    name: 'prototype pollution with records',
    body: `Object.prototype.polluted = 'yes'; Object.defineProperty(Object.prototype, 'id', { set() { throw new Error('setter'); }, configurable: true });
      Array.prototype.slice = () => []; await nango.batchSave([{ id: 'a', nested: { n: 1 } }], 'M');`,
    kind: 'sync',
    code: null,
    check: (_r, host) => {
      const record = host.model('M').get('a');
      expect(record).toEqual({ id: 'a', nested: { n: 1 } });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    },
  },
  {
    name: 'probing for host references',
    body: `const found = []; const seen = new Set(); const queue = [globalThis, nango, console, nango.paginate({ endpoint: '/', paginate: { type: 'cursor' } })];
      while (queue.length) { const o = queue.shift(); if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue; seen.add(o);
        for (const k of Reflect.ownKeys(o)) { let v; try { v = o[k]; } catch { continue; }
          if (v && (typeof v.applySync === 'function' || typeof v.derefInto === 'function' || typeof v.copySync === 'function')) found.push(String(k));
          queue.push(v); }
        queue.push(Object.getPrototypeOf(o)); }
      return { found, seen: seen.size, bridge: typeof nango.bridge, internals: Object.keys(nango) };`,
    code: null,
    check: (r) => {
      const out = r.output as { found: string[]; seen: number; bridge: string; internals: string[] };
      expect(out.found).toEqual([]);
      expect(out.bridge).toBe('undefined');
      expect(out.seen).toBeGreaterThan(50);
      expect(out.internals).not.toContain('bridge');
    },
  },
  {
    name: 'caller and stack-trace API probing',
    body: `const leaked = [];
      Error.prepareStackTrace = (_e, frames) => {
        for (const f of frames) if (f.getFunction() || (f.getThis() !== undefined && f.getThis() !== globalThis)) leaked.push(String(f.getFunctionName()));
        return '';
      };
      const getter = Function('leaked', 'return function () { leaked.push(typeof arguments.callee.caller === "function" ? "caller" : "none"); new Error().stack; return "y"; }')(leaked);
      const headers = {}; Object.defineProperty(headers, 'x', { get: getter, enumerable: true });
      await nango.get({ endpoint: '/', headers });
      return leaked;`,
    code: null,
    check: (r) => {
      // Only the script's own sloppy function (named "eval" by V8) may show up; no sandbox frame does.
      const [caller, ...frames] = r.output as string[];
      expect(caller).toBe('none');
      expect(frames.filter((name) => name !== 'eval')).toEqual([]);
    },
  },
  {
    name: 'log flood',
    body: 'for (let i = 0; i < 1e6; i++) console.log("line", i);',
    limits: { maxLogLines: 1000 },
    code: 'log_limit_exceeded',
  },
  {
    name: 'log flood caught and ignored',
    body: 'for (let i = 0; i < 5000; i++) { try { await nango.log("x"); } catch {} } return "done";',
    limits: { maxLogLines: 1000 },
    code: 'log_limit_exceeded',
  },
  {
    name: 'huge log line',
    body: 'await nango.log("y".repeat(500000)); return 1;',
    code: null,
    check: (_r, host) => {
      expect(host.logs[0]?.truncated).toBe(true);
      expect(host.logs[0]!.message.length).toBeLessThan(100_100);
    },
  },
  { name: 'huge output', body: 'return "z".repeat(3 * 1024 * 1024);', code: 'output_too_large' },
  { name: 'returning a function', body: 'return () => 1;', code: 'invalid_action_output' },
  { name: 'returning a symbol', body: 'return Symbol("s");', code: 'invalid_action_output' },
  { name: 'returning a cycle', body: 'const a = {}; a.a = a; return a;', code: 'invalid_action_output' },
  { name: 'returning a bigint', body: 'return { n: 10n };', code: 'invalid_action_output' },
  {
    name: 'timer flood',
    body: 'for (let i = 0; i < 1e5; i++) setTimeout(() => {}, 1e6);',
    limits: { maxTimers: 100 },
    code: 'too_many_timers',
  },
  {
    name: 'interval flood',
    body: 'for (let i = 0; i < 1e5; i++) setInterval(() => {}, 0); await new Promise((r) => setTimeout(r, 50));',
    limits: { maxTimers: 100 },
    code: 'too_many_timers',
  },
  {
    name: 'host call flood',
    body: 'await Promise.all(Array.from({ length: 200 }, () => nango.get({ endpoint: "/" })));',
    limits: { maxHostCallsInFlight: 8 },
    code: 'too_many_host_calls',
  },
  {
    name: 'unhandled rejection',
    body: 'Promise.reject(new Error("nobody listens")); await null; return "too late";',
    code: 'script_runtime_error',
    message: /nobody listens/,
    check: (r) => expect(r.error?.stack).not.toMatch(/runtime\.ts|isolated-vm boundary/),
  },
  {
    name: 'rejection handled in time',
    body: 'const p = Promise.reject(new Error("handled")); try { await p; } catch { return "caught"; }',
    code: null,
    check: (r) => expect(r.output).toBe('caught'),
  },
  {
    name: 'throw in a timer callback',
    body: 'setTimeout(() => { throw new Error("late"); }, 0); await new Promise((r) => setTimeout(r, 5));',
    code: 'script_runtime_error',
    message: /late/,
  },
  {
    name: 'throwing a string',
    body: 'throw "boom";',
    code: 'script_runtime_error',
    message: /Non-error thrown: boom/,
  },
  { name: 'throwing null', body: 'throw null;', code: 'script_runtime_error', message: /null/ },
  {
    name: 'throwing a spoofed limit code',
    body: 'throw Object.assign(new Error("fake"), { code: "out_of_memory" });',
    code: 'script_runtime_error',
    message: /fake/,
  },
  {
    name: 'Proxy trap throwing on a record',
    body: 'await nango.batchSave([new Proxy({ id: 1 }, { ownKeys() { throw new Error("trap"); } })], "M");',
    kind: 'sync',
    code: 'invalid_record',
    message: /record 0 of M is not JSON data: trap/,
  },
  {
    name: 'Proxy with endless depth',
    body: 'const make = () => new Proxy({}, { get: (_t, k) => (k === "id" ? 1 : k === "toJSON" ? undefined : make()), ownKeys: () => ["id", "next"], getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true, value: 1 }) }); await nango.batchSave([make()], "M");',
    kind: 'sync',
    code: 'invalid_record',
    message: /not JSON data: it is nested too deeply/,
  },
  {
    name: 'getter changing between reads',
    body: 'let n = 0; await nango.batchSave([{ id: "g", get v() { return ++n; } }], "M"); return n;',
    kind: 'sync',
    code: null,
    check: (_r, host) => expect(host.model('M').get('g')).toEqual({ id: 'g', v: 1 }),
  },
  {
    name: 'cyclic record',
    body: 'const r = { id: 1 }; r.self = r; await nango.batchSave([r], "M");',
    kind: 'sync',
    code: 'invalid_record',
    message: /cycle/,
  },
  {
    name: 'record nested deeper than 64 levels',
    body: 'let r = { id: 1 }; for (let i = 0; i < 100; i++) r = { id: i, child: r }; await nango.batchSave([r], "M");',
    kind: 'sync',
    code: 'invalid_record',
    message: /deeper/,
  },
  {
    // Records cross as JSON, as they reach Nango's records service: a method is left out.
    name: 'function inside a record',
    body: 'await nango.batchSave([{ id: 1, f() {} }], "M");',
    kind: 'sync',
    code: null,
    check: (_r, host) => expect(host.model('M').get('1')).toEqual({ id: 1 }),
  },
  {
    name: 'record without id',
    body: 'await nango.batchSave([{ name: "x" }], "M");',
    kind: 'sync',
    code: 'invalid_record',
  },
  {
    name: 'oversized batch',
    body: 'await nango.batchSave(Array.from({ length: 20001 }, (_, i) => ({ id: i })), "M");',
    kind: 'sync',
    code: 'batch_too_large',
  },
  {
    name: 'SharedArrayBuffer',
    body: 'return new SharedArrayBuffer(8);',
    code: 'script_runtime_error',
    message: /SharedArrayBuffer is not defined/,
  },
  {
    name: 'Atomics.wait',
    body: 'Atomics.wait(new Int32Array(4), 0, 0);',
    code: 'script_runtime_error',
    message: /Atomics is not defined/,
  },
  {
    name: 'WebAssembly',
    body: 'await WebAssembly.instantiate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));',
    code: 'script_runtime_error',
    message: /WebAssembly is not defined/,
  },
  {
    name: 'never-settling promise',
    body: 'await new Promise(() => {});',
    limits: { wallTimeMs: 300 },
    code: 'wall_time_exceeded',
  },
  {
    name: 'endless sleep',
    body: 'await new Promise((r) => setTimeout(r, 1e9));',
    limits: { wallTimeMs: 300 },
    code: 'wall_time_exceeded',
  },
  {
    name: 'non-flat checkpoint',
    body: 'await nango.saveCheckpoint({ nested: { a: 1 } });',
    code: 'invalid_checkpoint',
  },
  { name: 'syntax error', body: 'return 1 +;', code: 'invalid_script' },

  // Issue 10 §5: nothing large or deep crosses the isolate boundary; each is refused in the isolate.
  {
    name: 'output nested 10,000 deep',
    body: 'let o = {}; for (let i = 0; i < 10000; i++) o = { o }; return o;',
    code: 'output_too_deep',
  },
  {
    name: 'output nested past the stack',
    body: 'let o = []; for (let i = 0; i < 200000; i++) o = [o]; return o;',
    code: 'output_too_deep',
  },
  {
    name: 'webhook response nested 10,000 deep',
    body: 'let o = []; for (let i = 0; i < 10000; i++) o = [o]; return o;',
    kind: 'webhook',
    code: 'output_too_deep',
  },
  {
    name: 'output one level past the limit',
    body: 'let o = 1; for (let i = 0; i < 65; i++) o = [o]; return o;',
    code: 'output_too_deep',
    message: /deeper than 64 levels/,
  },
  {
    name: 'output at the depth limit',
    body: 'let o = "[[{"; for (let i = 0; i < 64; i++) o = { o }; return o;',
    code: null,
    check: (r) => expect(JSON.stringify(r.output).length).toBeGreaterThan(64),
  },
  {
    name: '3 MB proxy body',
    body: 'await nango.post({ endpoint: "/", data: { s: "x".repeat(3 << 20) } });',
    limits: small,
    code: 'host_call_too_large',
    check: (_r, host) => expect(host.calls).toEqual([]),
  },
  {
    name: '3 MB proxy body of bytes',
    body: 'await nango.post({ endpoint: "/", data: new Uint8Array(3 << 20) });',
    limits: small,
    code: 'host_call_too_large',
    check: (_r, host) => expect(host.calls).toEqual([]),
  },
  {
    name: '3 MB header',
    body: 'await nango.get({ endpoint: "/", headers: { x: "x".repeat(3 << 20) } });',
    limits: small,
    code: 'host_call_too_large',
  },
  {
    name: 'oversized call caught, then a normal one',
    limits: small,
    body: `try { await nango.post({ endpoint: "/", data: "x".repeat(3 << 20) }); } catch (e) { await nango.log(e.code); }
      return (await nango.get({ endpoint: "/" })).status;`,
    code: null,
    check: (r, host) => {
      expect(r.output).toBe(200);
      expect(host.logs.map((l) => l.message)).toEqual(['host_call_too_large']);
    },
  },
  {
    name: '3 MB record',
    body: 'await nango.batchSave([{ id: 1, s: "x".repeat(3 << 20) }], "M");',
    kind: 'sync',
    limits: small,
    code: 'host_call_too_large',
    check: (_r, host) => expect(host.calls).toEqual([]),
  },
  {
    name: '3 MB model name',
    body: 'await nango.batchSave([{ id: 1 }], "M".repeat(3 << 20));',
    kind: 'sync',
    limits: small,
    code: 'host_call_too_large',
  },
  {
    name: 'large records are split into host calls by size',
    body: 'const s = "x".repeat(100_000); await nango.batchSave(Array.from({ length: 12 }, (_, i) => ({ id: i, s })), "M");',
    limits: { maxHostCallBytes: 1_000_000 },
    kind: 'sync',
    code: null,
    check: (_r, host) => {
      expect(host.model('M').size).toBe(12);
      expect(host.calls.filter((c) => c === 'batchSave')).toHaveLength(2);
    },
  },
  {
    name: 'getter growing between reads of a record',
    limits: small,
    body: 'let n = 0; await nango.batchSave([{ id: 1, get v() { return n++ ? "x".repeat(3 << 20) : "small"; } }], "M");',
    kind: 'sync',
    code: null,
    check: (_r, host) => expect(host.model('M').get('1')).toEqual({ id: 1, v: 'small' }),
  },
  {
    name: '3 MB metadata',
    body: 'await nango.setMetadata({ s: "x".repeat(3 << 20) });',
    limits: small,
    code: 'host_call_too_large',
    check: (_r, host) => expect(host.calls).toEqual([]),
  },
  {
    name: '3 MB checkpoint',
    body: 'await nango.saveCheckpoint({ s: "x".repeat(3 << 20) });',
    limits: small,
    code: 'host_call_too_large',
  },
  {
    name: 'long log lines, flushed by size',
    body: 'for (let i = 0; i < 12; i++) await nango.log("y".repeat(100_000)); return 1;',
    code: null,
    check: (_r, host) => {
      // 1.2 MB of lines leave in batches of about 1 MB (10 lines), not in one copy at the end.
      expect(host.logs).toHaveLength(12);
      expect(host.calls.filter((c) => c === 'log')).toHaveLength(2);
    },
  },
  {
    name: 'log line with String.prototype.slice patched',
    body: 'String.prototype.slice = function () { return String(this); }; await nango.log("y".repeat(500000)); return 1;',
    code: null,
    check: (_r, host) => expect(host.logs[0]!.message.length).toBeLessThan(100_100),
  },
  {
    name: 'ActionError with a 3 MB payload',
    body: 'throw new nango.ActionError({ message: "too big", blob: "y".repeat(3 << 20) });',
    limits: { maxErrorBytes: 1000 },
    code: 'action_script_runtime_error',
    message: /^too big$/,
    check: (r) => expect(r.error?.payload).toMatchObject({ message: 'too big', truncated: true }),
  },
  {
    name: 'ActionError with a payload nested 10,000 deep',
    body: 'let o = {}; for (let i = 0; i < 10000; i++) o = { o }; throw new nango.ActionError({ message: "deep", o });',
    limits: { maxErrorBytes: 1000 },
    code: 'action_script_runtime_error',
    check: (r) => expect(r.error?.payload).toMatchObject({ message: 'deep', truncated: true }),
  },
  {
    name: 'Error with a 3 MB message',
    body: 'throw new Error("y".repeat(3 << 20));',
    limits: { maxErrorBytes: 1000 },
    code: 'script_runtime_error',
    check: (r) => {
      expect(r.error!.message).toMatch(/^y{1000}… \[truncated\]$/);
      expect(r.error!.stack!.length).toBeLessThan(1100);
    },
  },
  {
    name: 'unhandled rejection with a 3 MB message',
    body: 'Promise.reject(new Error("y".repeat(3 << 20))); await null; return 1;',
    limits: { maxErrorBytes: 1000 },
    code: 'script_runtime_error',
    check: (r) => {
      expect(r.error!.message).toMatch(/^y{1000}… \[truncated\]$/);
      expect(r.error!.stack!.length).toBeLessThan(1100);
    },
  },
  {
    name: 'throwing a 3 MB string',
    body: 'throw "y".repeat(3 << 20);',
    limits: { maxErrorBytes: 1000 },
    code: 'script_runtime_error',
    check: (r) => expect(r.error!.message.length).toBeLessThan(1100),
  },
];
