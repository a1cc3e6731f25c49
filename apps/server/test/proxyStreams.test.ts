import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createRuntime } from '@ferry/runtime';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { FerryError } from '../src/errors.js';
import { createScriptProxy, scriptProviderInfo } from '../src/proxy/script.js';
import { describeEachDatabase, type TestServer } from './harness.js';
import { call, hostWith } from './proxyClient.js';
import { proxyProvidersFile } from './proxyUpstream.js';

const MB = 1024 * 1024;

/** How one streamed response of the local upstream ended. */
interface StreamEnd {
  /** Whether the whole body was written before the connection closed. */
  finished: boolean;
  /** Bytes handed to the socket. */
  sent: number;
}

/** A provider API on 127.0.0.1 that reports how each of its streamed responses ended, by `tag`. */
interface LocalUpstream {
  url: string;
  /** Resolves when the response of the request tagged `tag` closed. */
  ended(tag: string): Promise<StreamEnd>;
  close(): Promise<void>;
}

let gzipped: Buffer | undefined;
/** 16 MB of incompressible bytes, gzipped (so the compressed stream is long too). */
const incompressibleGzip = (): Buffer => (gzipped ??= gzipSync(randomBytes(16 * MB), { level: 1 }));

async function startLocalUpstream(): Promise<LocalUpstream> {
  const ends = new Map<string, { promise: Promise<StreamEnd>; resolve: (end: StreamEnd) => void }>();
  const slot = (tag: string) => {
    let entry = ends.get(tag);
    if (!entry) {
      let resolve!: (end: StreamEnd) => void;
      const promise = new Promise<StreamEnd>((r) => (resolve = r));
      entry = { promise, resolve };
      ends.set(tag, entry);
    }
    return entry;
  };
  /** Streams `total` bytes taken from `source` (repeated), honouring backpressure, and reports the end. */
  const stream = (res: ServerResponse, tag: string, source: Buffer, total: number): void => {
    let sent = 0;
    res.on('close', () => slot(tag).resolve({ finished: res.writableFinished, sent }));
    const pump = (): void => {
      while (sent < total && !res.destroyed) {
        const at = sent % source.length;
        const part = source.subarray(at, Math.min(source.length, at + 64 * 1024, at + total - sent));
        sent += part.length;
        if (!res.write(part)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const tag = url.searchParams.get('tag') ?? '';
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.pathname) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
        return;
      case '/big': {
        const total = Number(url.searchParams.get('mb') ?? 100) * MB;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
        stream(res, tag, Buffer.alloc(64 * 1024, 97), total);
        return;
      }
      case '/gzbig': {
        const body = incompressibleGzip();
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-encoding': 'gzip',
          'content-length': body.length,
        });
        stream(res, tag, body, body.length);
        return;
      }
      case '/bytes':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': n });
        res.end(Buffer.alloc(n, 98));
        return;
      case '/chunked':
        // No content-length: the body arrives chunked.
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let sent = 0; sent < n; sent += 16 * 1024)
          res.write(Buffer.alloc(Math.min(16 * 1024, n - sent), 99));
        res.end();
        return;
      case '/gzip': {
        const body = gzipSync(Buffer.alloc(n, 100));
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-encoding': 'gzip',
          'content-length': body.length,
        });
        res.end(body);
        return;
      }
      default:
        res.writeHead(404);
        res.end();
    }
  };
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ended: (tag) => slot(tag).promise,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * A TCP port where connecting hangs: a listener (in another process) that never accepts, with a backlog of
 * 0 that two idle connections fill, so the kernel drops further SYNs and `connect` waits.
 */
interface Blackhole {
  port: number;
  close(): void;
}

async function startBlackhole(): Promise<Blackhole> {
  const listener: ChildProcess = spawn(
    'python3',
    [
      '-c',
      [
        'import socket, sys, time',
        's = socket.socket()',
        "s.bind(('127.0.0.1', 0))",
        's.listen(0)',
        'print(s.getsockname()[1], flush=True)',
        'sys.stdin.read()', // until the test closes stdin (or goes away)
      ].join('\n'),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const [line] = (await once(listener.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
  }
  // The first filler is accepted by the kernel; the second already waits.
  await once(fillers[0]!, 'connect');
  return {
    port,
    close() {
      for (const s of fillers) s.destroy();
      listener.stdin?.end();
      listener.kill();
    },
  };
}

let local: LocalUpstream | undefined;
let blackhole: Blackhole | undefined;
const runtime = createRuntime({ poolSize: 1 });
afterAll(async () => {
  await runtime.dispose();
  await local?.close();
  blackhole?.close();
});

const SCRIPT_LIMIT = 64 * 1024;

/** A GET through `/proxy` with node:http, read until `readBytes` arrived, then the socket destroyed. */
function downloadThenHangUp(
  ts: TestServer,
  path: string,
  readBytes: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; received: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${ts.url}/proxy${path}`, {
      headers: {
        authorization: `Bearer ${ts.secretKey}`,
        'connection-id': 'l1',
        'provider-config-key': 'local',
        ...headers,
      },
    });
    req.on('error', () => undefined); // the hang-up is ours
    req.on('response', (res) => {
      let received = 0;
      res.on('error', () => undefined);
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= readBytes && !req.destroyed) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, received });
        }
      });
      res.on('end', () => reject(new Error(`the whole body arrived (${received} bytes)`)));
    });
    req.on('close', () => reject(new Error('closed before enough of the body arrived')));
    req.end();
  });
}

interface LoggedOperation {
  status: string;
  meta: Record<string, unknown>;
}

/** The proxy operation whose logged URL contains `needle`, once the engine has logged it. */
async function loggedOperation(ts: TestServer, needle: string): Promise<LoggedOperation> {
  return vi.waitFor(
    async () => {
      const ops = await ts.api('GET', '/logs/operations?kind=proxy&limit=100');
      const op = (ops.body as { data: LoggedOperation[] }).data.find((o) =>
        String(o.meta.url).includes(needle),
      );
      if (!op) throw new Error(`no operation for ${needle} yet`);
      return op;
    },
    { timeout: 5000, interval: 20 },
  );
}

function errorLines(ts: TestServer, from: number): string[] {
  return ts.logLines.slice(from).filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
}

/** Collects the process' unhandled rejections while `run` runs (and for two turns of the loop after it). */
async function unhandledDuring(run: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await run();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

/**
 * The host side of `nango.proxy` for connection `l1`, limited to {@link SCRIPT_LIMIT}. The limit is passed
 * here: nothing in the server reads `ProxySettings.maxScriptResponseBytes` yet.
 */
async function scriptProxy(ts: TestServer) {
  const services = ts.server.services;
  const env = await services.environments.bySecretKey(ts.secretKey);
  return createScriptProxy(
    services.proxy,
    { environmentId: env?.id ?? 0, connectionId: 'l1', providerConfigKey: 'local' },
    { maxResponseBytes: SCRIPT_LIMIT },
  );
}

const scriptCases: {
  name: string;
  endpoint: string;
  n: number;
  want?: number;
  decompress?: boolean;
}[] = [
  { name: 'plain, under the limit', endpoint: '/bytes', n: 1000, want: 1000 },
  { name: 'gzip, under the limit', endpoint: '/gzip', n: 1000, want: 1000 },
  { name: 'plain', endpoint: '/bytes', n: 200_000 },
  { name: 'chunked (no content-length)', endpoint: '/chunked', n: 200_000 },
  {
    name: 'gzip, small compressed but large decompressed',
    endpoint: '/gzip',
    n: 200_000,
  },
  { name: 'gzip with Decompress', endpoint: '/gzip', n: 200_000, decompress: true },
];

/** One `nango.proxy` GET through the host side: what the script got, the rejections nobody handled, the log. */
async function scriptRequest(ts: TestServer, endpoint: string, n: number, decompress?: boolean) {
  const proxy = await scriptProxy(ts);
  const tag = `script-${Math.random().toString(36).slice(2)}`;
  let outcome: { length: number } | { code: unknown; message: string } | undefined;
  const unhandled = await unhandledDuring(async () => {
    try {
      const res = await proxy({
        method: 'GET',
        endpoint,
        params: { n, tag },
        responseType: 'text',
        ...(decompress ? { decompress } : {}),
      });
      outcome = { length: String(res.data).length };
    } catch (err) {
      outcome = { code: (err as FerryError).code, message: (err as Error).message };
    }
  });
  return { outcome, unhandled, op: await loggedOperation(ts, tag) };
}

describeEachDatabase(
  'proxy streams',
  (get) => {
    // An integration on the local upstream and one on the blackhole, each with a connection.
    beforeAll(async () => {
      const ts = get();
      for (const [provider, key, connection] of [
        ['fake-local', 'local', 'l1'],
        ['fake-blackhole', 'hole', 'h1'],
      ] as const) {
        expect((await ts.api('POST', '/integrations', { provider, unique_key: key })).status).toBe(200);
        const created = await ts.api('POST', '/connections', {
          provider_config_key: key,
          connection_id: connection,
          credentials: { type: 'API_KEY', apiKey: 'sk_local' },
        });
        expect(created.status).toBe(201);
      }
    });

    it('serves a small response from the local upstream', async () => {
      const { res } = await call(get(), '/ok', { connection: 'l1', integration: 'local' });
      expect(await res.json()).toEqual({ ok: true });
    });

    it.each<{ name: string; path: string; headers: Record<string, string> }>([
      { name: 'as it comes', path: '/big?mb=100', headers: {} },
      { name: 'decompressed', path: '/gzbig?', headers: { decompress: 'true' } },
    ])(
      'stops the upstream download when the client hangs up mid-body ($name), logs it failed, and keeps serving',
      async ({ path, headers }) => {
        const ts = get();
        const logged = ts.logLines.length;
        const tag = `hangup-${Math.random().toString(36).slice(2)}`;
        const got = await downloadThenHangUp(ts, `${path}&tag=${tag}`, 3 * MB, headers);
        expect(got.status).toBe(200);
        // The upstream's response closes unfinished: Ferry aborted its request.
        const end = await local!.ended(tag);
        expect(end.finished).toBe(false);
        expect(end.sent).toBeLessThan(16 * MB);
        const op = await loggedOperation(ts, tag);
        expect(op.status).toBe('failed');
        expect(op.meta).toMatchObject({ status: 200, attempts: 1, error: 'stream_error' });
        // bytes_out is what was passed on, not the Content-Length the provider announced.
        expect((op.meta as { bytes_out: number }).bytes_out).toBeGreaterThan(0);
        expect((op.meta as { bytes_out: number }).bytes_out).toBeLessThanOrEqual(end.sent);
        // Still serving, on the same upstream pool too.
        const next = await call(ts, '/ok', { connection: 'l1', integration: 'local' });
        expect(next.res.status).toBe(200);
        expect(await next.res.json()).toEqual({ ok: true });
        expect(errorLines(ts, logged)).toEqual([]);
      },
    );

    it.each(scriptCases)(
      'script nango.proxy: $name ($n bytes) against a limit of 64 KiB',
      async ({ endpoint, n, want, decompress }) => {
        const ts = get();
        const { outcome, unhandled, op } = await scriptRequest(ts, endpoint, n, decompress);
        if (want !== undefined) {
          expect(outcome).toEqual({ length: want });
          expect(op.status).toBe('success');
        } else {
          expect(outcome).toEqual({
            code: 'proxy_response_too_large',
            message: `The response is larger than ${SCRIPT_LIMIT} bytes.`,
          });
          expect(op).toMatchObject({ status: 'failed', meta: { error: 'proxy_response_too_large' } });
        }
        expect(unhandled.map(String)).toEqual([]);
      },
    );

    it('script nango.proxy: stops a huge download at the limit instead of reading it all', async () => {
      const ts = get();
      const proxy = await scriptProxy(ts);
      const tag = `script-big-${Math.random().toString(36).slice(2)}`;
      const unhandled = await unhandledDuring(async () => {
        await expect(
          proxy({ method: 'GET', endpoint: '/big', params: { mb: 100, tag } }),
        ).rejects.toMatchObject({ code: 'proxy_response_too_large' });
      });
      expect(unhandled.map(String)).toEqual([]);
      const end = await local!.ended(tag);
      expect(end.finished).toBe(false);
      expect(end.sent).toBeLessThan(16 * MB);
      const op = await loggedOperation(ts, tag);
      expect(op).toMatchObject({ status: 'failed', meta: { error: 'proxy_response_too_large' } });
    });

    it('script run: a too-large response fails the run cleanly and the next request works', async () => {
      const ts = get();
      const proxy = await scriptProxy(ts);
      const code = `"use strict";
module.exports.default = async function run(nango, n) {
  let failed;
  try { await nango.get({ endpoint: '/gzip', params: { n } }); } catch (e) { failed = e.message; }
  const ok = await nango.get({ endpoint: '/ok' });
  return { failed, ok: ok.data };
};
`;
      let result: Awaited<ReturnType<typeof runtime.run>> | undefined;
      const unhandled = await unhandledDuring(async () => {
        result = await runtime.run({
          code,
          kind: 'action',
          input: 200_000,
          context: {
            connectionId: 'l1',
            providerConfigKey: 'local',
            provider: scriptProviderInfo(ts.server.services.providers, 'fake-local'),
          },
          host: hostWith(proxy),
        });
      });
      expect(unhandled.map(String)).toEqual([]);
      expect(result?.error).toBeUndefined();
      expect(result?.output).toEqual({
        failed: `The response is larger than ${SCRIPT_LIMIT} bytes.`,
        ok: { ok: true },
      });
    });

    it.each([
      { retries: 0, attempts: 1 },
      { retries: 1, attempts: 2 },
    ])(
      'answers proxy_timeout when connecting hangs past connectTimeoutMs (Retries: $retries → $attempts attempt(s))',
      async ({ retries, attempts }) => {
        const ts = get();
        const started = performance.now();
        const { res } = await call(ts, `/never?try=${retries}`, {
          connection: 'h1',
          integration: 'hole',
          headers: { retries: String(retries) },
        });
        const elapsed = performance.now() - started;
        expect(res.status).toBe(504);
        expect(res.headers.get('x-ferry-proxy-attempts')).toBe(String(attempts));
        expect(res.headers.get('x-ferry-upstream-error')).toBeNull();
        expect(await res.json()).toEqual({
          error: { code: 'proxy_timeout', message: 'Connecting to the provider timed out.' },
        });
        // Each attempt waited for the 300 ms connect timeout (a lower bound: load only adds to it). That it is
        // not the 10 s default nor the request deadline shows in the count: a retry began before the deadline.
        expect(elapsed).toBeGreaterThanOrEqual(attempts * 300 - 20);
        const op = await loggedOperation(ts, `/never?try=${retries}`);
        expect(op).toMatchObject({ status: 'failed', meta: { attempts, error: 'proxy_timeout' } });
      },
    );
  },
  {
    setup: async () => {
      local ??= await startLocalUpstream();
      blackhole ??= await startBlackhole();
      return {
        providersFile: proxyProvidersFile('http://127.0.0.1:9', 'http://127.0.0.1:9', {
          'fake-local': local.url,
          'fake-blackhole': `http://127.0.0.1:${blackhole.port}`,
        }),
        proxy: {
          allowPrivateNetworks: true,
          backoffBaseMs: 20,
          connectTimeoutMs: 300,
          timeoutMs: 10_000,
        },
      };
    },
  },
);
