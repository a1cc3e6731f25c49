import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { createLogger } from '../src/logger.js';
import type { ProxySettings } from '../src/proxy/settings.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { StoreOptions } from '../src/store/store.js';
import { checkResponse, type ContractViolation } from './contract.js';

const pgUrl = process.env.FERRY_TEST_POSTGRES_URL;

/** The databases the server suite runs on: SQLite always, PostgreSQL when FERRY_TEST_POSTGRES_URL is set. */
export const databases: ('sqlite' | 'postgres')[] = pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];

let warned = false;
function warnSkipped(): void {
  if (pgUrl || warned) return;
  warned = true;
  process.stderr.write(
    '\n*** FERRY_TEST_POSTGRES_URL is not set: the PostgreSQL suite is SKIPPED; only SQLite runs. ***\n\n',
  );
}

/** A throwaway database: a SQLite file in a temp folder, or a fresh schema on the test PostgreSQL. */
export async function tempDatabase(
  kind: 'sqlite' | 'postgres',
): Promise<{ options: StoreOptions; path?: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-test-'));
    const file = join(dir, 'ferry.db');
    return {
      options: { kind: 'sqlite', file },
      path: file,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!pgUrl) throw new Error('FERRY_TEST_POSTGRES_URL is not set');
  const schema = `ferry_test_${randomBytes(6).toString('hex')}`;
  return {
    options: { kind: 'postgres', url: pgUrl, schema, maxConnections: 5 },
    drop: async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    },
  };
}

/** A server under test with everything a test needs to talk to it. */
export interface TestServer {
  url: string;
  secretKey: string;
  server: RunningServer;
  dbKind: 'sqlite' | 'postgres';
  dbPath: string | undefined;
  logLines: string[];
  violations: ContractViolation[];
  /** fetch against the server with the secret key, JSON in and out. */
  api: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; body: any; headers: Headers }>;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Starts a server on a random port over a fresh database of the given kind. */
export async function startTestServer(
  kind: 'sqlite' | 'postgres',
  extra: {
    providersFile?: string;
    /**
     * Proxy settings. `allowPrivateNetworks` (which governs every outbound request: proxy, verification,
     * token endpoints) defaults to `['127.0.0.0/8']`: loopback, where the suite's fake providers and OAuth servers run;
     * the SSRF tests pass their own.
     */
    proxy?: Partial<ProxySettings>;
    /** Serve on a port chosen up front so that the public URL (OAuth callbacks) is the real `http://127.0.0.1:<port>`. */
    publicUrl?: boolean;
    /** With `publicUrl`: this port instead of a fresh one (when a fake provider must know the callback first). */
    port?: number;
  } = {},
): Promise<TestServer & { stop(): Promise<void> }> {
  const db = await tempDatabase(kind);
  const port = extra.publicUrl ? (extra.port ?? (await freePort())) : 0;
  const secretKey = randomUUID();
  const logLines: string[] = [];
  const violations: ContractViolation[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const server = await startServer({
    database: db.options,
    encryptionKey: randomBytes(32).toString('base64'),
    previousEncryptionKeys: [],
    secretKey,
    serverUrl: extra.publicUrl ? `http://127.0.0.1:${port}` : 'http://localhost:3003',
    providersFile: extra.providersFile,
    proxy: { allowPrivateNetworks: ['127.0.0.0/8'], ...extra.proxy },
    bodyLimit: '1mb',
    port,
    host: '127.0.0.1',
    logger: createLogger({ level: 'debug', destination }),
    observeResponses: (entry) => {
      const v = checkResponse(entry);
      if (v) violations.push(v);
    },
  });
  const api: TestServer['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(server.url + path, {
      method,
      headers: {
        authorization: `Bearer ${secretKey}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    url: server.url,
    secretKey,
    server,
    dbKind: kind,
    dbPath: db.path,
    logLines,
    violations,
    api,
    async stop() {
      await server.close();
      await db.drop();
    },
  };
}

/**
 * Runs a block once per database with a server started before and stopped after; `get()` returns it.
 * After the block, every response the server sent must have matched the OpenAPI contract.
 */
export function describeEachDatabase(
  name: string,
  fn: (get: () => TestServer) => void,
  options: {
    setup?: () => Promise<Parameters<typeof startTestServer>[1]> | Parameters<typeof startTestServer>[1];
  } = {},
): void {
  warnSkipped();
  for (const kind of databases) {
    describe(`${name} [${kind}]`, () => {
      let ts: (TestServer & { stop(): Promise<void> }) | undefined;
      beforeAll(async () => {
        ts = await startTestServer(kind, (await options.setup?.()) ?? {});
      });
      afterAll(async () => {
        const violations = ts?.violations ?? [];
        await ts?.stop();
        if (violations.length > 0) {
          throw new Error(
            `responses that break openapi/openapi.yaml:\n${JSON.stringify(violations.slice(0, 10), null, 2)}`,
          );
        }
      });
      fn(() => {
        if (!ts) throw new Error('server not started');
        return ts;
      });
    });
  }
}
