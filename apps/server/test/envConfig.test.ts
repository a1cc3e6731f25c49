import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { databases, type TestServer } from './harness.js';
import { sharedPostgresSchema } from './processes.js';
import { call, key, seedProxyConnections } from './proxyClient.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

// The proxy settings as an operator gives them: environment variables read by loadConfig, then the server
// started the way main.ts starts it (`startServer({ ...loadConfig(), logger })`), not an object passed in.

let upstream: ProxyUpstream;
beforeAll(async () => {
  upstream = await startProxyUpstream();
});
afterAll(async () => upstream.close());

/** The environment of a server on a fresh database of `kind`, listening on a port of its own choosing. */
async function baseEnv(
  kind: 'sqlite' | 'postgres',
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-env-'));
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    FERRY_DATA_DIR: dataDir,
    FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    FERRY_SECRET_KEY: randomUUID(),
    FERRY_LOG_LEVEL: 'silent',
    FERRY_PROVIDERS_FILE: proxyProvidersFile(upstream.url, 'http://127.0.0.1:9'),
  };
  const removeDir = async () => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'sqlite')
    return { env: { ...env, FERRY_DATABASE_URL: join(dataDir, 'ferry.db') }, drop: removeDir };
  const schema = await sharedPostgresSchema();
  return {
    env: { ...env, FERRY_DATABASE_URL: schema.url },
    drop: async () => {
      await schema.drop();
      await removeDir();
    },
  };
}

/** Starts a server from `env` as main.ts does: `startServer({ ...loadConfig(env), logger })`. */
async function startFromEnv(env: Record<string, string>) {
  const config = loadConfig(env);
  const server = await startServer({ ...config, logger: createLogger({ level: config.logLevel }) });
  const secretKey = config.secretKey ?? '';
  const ts = {
    url: server.url,
    secretKey,
    server,
    api: async (method: string, path: string, body?: unknown) => {
      const res = await fetch(server.url + path, {
        method,
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
  } as unknown as TestServer;
  return { ts, close: () => server.close() };
}

/** A server from `env` and `extra` on a fresh database, with the proxy's integrations and connections created. */
async function serverFromEnv(kind: 'sqlite' | 'postgres', extra: Record<string, string>) {
  const base = await baseEnv(kind);
  const { ts, close } = await startFromEnv({ ...base.env, ...extra });
  try {
    await seedProxyConnections(ts);
  } catch (err) {
    await close();
    await base.drop();
    throw err;
  }
  return {
    ts,
    stop: async () => {
      await close();
      await base.drop();
    },
  };
}

/** One GET through the proxy to the 127.0.0.1 upstream: the status, and whether the upstream saw it. */
async function reachUpstream(ts: TestServer): Promise<{ status: number; reached: boolean }> {
  const k = key();
  const { res } = await call(ts, `/echo?key=${k}`, { connection: 'k1', integration: 'key' });
  await res.arrayBuffer();
  return { status: res.status, reached: upstream.seen.some((s) => s.url.includes(k)) };
}

for (const kind of databases) {
  describe(`configuration from the environment reaches the server [${kind}]`, () => {
    it.each([
      { allow: undefined, want: { reached: false } },
      { allow: 'false', want: { reached: false } },
      { allow: '10.0.0.0/8,::1', want: { reached: false } },
      { allow: '127.0.0.1', want: { status: 200, reached: true } },
      { allow: '10.0.0.0/8, 127.0.0.0/8', want: { status: 200, reached: true } },
      { allow: 'true', want: { status: 200, reached: true } },
    ])('FERRY_PROXY_ALLOW_PRIVATE_NETWORKS=$allow: reached $want.reached', async ({ allow, want }) => {
      const { ts, stop } = await serverFromEnv(
        kind,
        allow === undefined ? {} : { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: allow },
      );
      try {
        const got = await reachUpstream(ts);
        expect(got).toMatchObject(want);
        // Blocked: an error in the envelope, never the provider's answer.
        if (!want.reached) expect(got.status).toBeGreaterThanOrEqual(400);
      } finally {
        await stop();
      }
    });

    it('caps the Retries a caller asks for at FERRY_PROXY_MAX_RETRIES', async () => {
      const { ts, stop } = await serverFromEnv(kind, {
        FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '127.0.0.1',
        FERRY_PROXY_MAX_RETRIES: '1',
      });
      try {
        for (const { retries, attempts } of [
          { retries: '0', attempts: 1 },
          { retries: '1', attempts: 2 },
          { retries: '9', attempts: 2 }, // over the cap: 1 + 1
        ]) {
          const k = key();
          const { res, attempts: told } = await call(ts, `/flaky?key=${k}&fail=20`, {
            headers: { retries },
          });
          expect([retries, res.status]).toEqual([retries, 502]);
          expect([retries, told]).toEqual([retries, attempts]);
          expect([retries, upstream.hits('/flaky').filter((h) => h.url.includes(k)).length]).toEqual([
            retries,
            attempts,
          ]);
        }
      } finally {
        await stop();
      }
    });

    it('FERRY_PREVIOUS_ENCRYPTION_KEYS: a server on a new key reads what the old key encrypted', async () => {
      const base = await baseEnv(kind);
      const oldKey = base.env.FERRY_ENCRYPTION_KEY!;
      try {
        const before = await startFromEnv(base.env);
        try {
          await seedProxyConnections(before.ts);
        } finally {
          await before.close();
        }
        const newKey = randomBytes(32).toString('base64');
        const after = await startFromEnv({
          ...base.env,
          FERRY_ENCRYPTION_KEY: newKey,
          FERRY_PREVIOUS_ENCRYPTION_KEYS: oldKey,
        });
        try {
          const read = await after.ts.api('GET', '/connections/k1?provider_config_key=key');
          expect(read.status).toBe(200);
          expect((read.body as { credentials: { apiKey: string } }).credentials.apiKey).toBe(
            'sk_live_secret',
          );
        } finally {
          await after.close();
        }
      } finally {
        await base.drop();
      }
    });

    it('FERRY_BODY_LIMIT: a JSON body over the limit is refused with 413, one under it accepted', async () => {
      const { ts, stop } = await serverFromEnv(kind, { FERRY_BODY_LIMIT: '2kb' });
      try {
        // A valid integration padded with JSON whitespace to `size` bytes (2kb is 2048).
        const body = (size: number, unique_key: string) =>
          JSON.stringify({ provider: 'github', unique_key }).padEnd(size, ' ');
        const over = await ts.api('POST', '/integrations', body(2100, 'over'));
        expect([over.status, (over.body as { error: { code: string } }).error.code]).toEqual([
          413,
          'payload_too_large',
        ]);
        const under = await ts.api('POST', '/integrations', body(1900, 'under'));
        expect(under.status).toBe(200);
      } finally {
        await stop();
      }
    });

    if (kind === 'postgres')
      it('FERRY_DATABASE_POOL_SIZE: the PostgreSQL pool has that many connections at most', async () => {
        const { ts, stop } = await serverFromEnv(kind, { FERRY_DATABASE_POOL_SIZE: '3' });
        try {
          expect(ts.server.services.store.pgPool?.options.max).toBe(3);
        } finally {
          await stop();
        }
      });
  });
}

describe('main.ts', () => {
  it('refuses to start on an invalid variable, naming it, with exit code 1', async () => {
    const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--no-node-snapshot', '--conditions=source', '--import', 'tsx', mainTs],
      {
        env: {
          ...process.env,
          FERRY_DATA_DIR: mkdtempSync(join(tmpdir(), 'ferry-env-')),
          FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/33',
          FERRY_DATABASE_POOL_SIZE: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toBe(
      'ferry: Invalid configuration:\n' +
        '  FERRY_DATABASE_POOL_SIZE: must be at least 1\n' +
        '  FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: "10.0.0.0/33" is not an IP address or CIDR range\n',
    );
  });
});
