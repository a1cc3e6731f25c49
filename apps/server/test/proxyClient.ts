import { request } from 'node:http';
import { expect } from 'vitest';
import type { TestServer } from './harness.js';
import type { RuntimeHost } from '@ferry/runtime';

let counter = 0;
/** A fresh key, so that the fake's per-key failure counters never leak between tests. */
export const key = (): string => `k${++counter}-${Date.now()}`;

/** Sends a request through `/proxy` as connection `c1` of integration `api` unless told otherwise. */
export async function call(
  ts: TestServer,
  path: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: RequestInit['body'];
    connection?: string;
    integration?: string;
  } = {},
) {
  const res = await fetch(`${ts.url}/proxy${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${ts.secretKey}`,
      'connection-id': init.connection ?? 'c1',
      'provider-config-key': init.integration ?? 'api',
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body, duplex: 'half' } : {}),
  });
  return {
    res,
    attempts: Number(res.headers.get('x-ferry-proxy-attempts')),
    upstreamError: res.headers.get('x-ferry-upstream-error'),
  };
}

/** GET with the path sent exactly as written (fetch and undici would normalise dot segments away). */
export function rawGet(ts: TestServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${ts.url}${path}`, {
      headers: {
        authorization: `Bearer ${ts.secretKey}`,
        'connection-id': 'c1',
        'provider-config-key': 'api',
      },
    });
    req.path = path;
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Creates the integrations `api` (fake-api, OAuth2) and `key` (fake-key) and their connections. */
export async function seedProxyConnections(ts: TestServer): Promise<void> {
  const ok = async (p: Promise<{ status: number; body: unknown }>, status: number) =>
    expect((await p).status).toBe(status);
  await ok(
    ts.api('POST', '/integrations', {
      provider: 'fake-api',
      unique_key: 'api',
      credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret' },
    }),
    200,
  );
  await ok(ts.api('POST', '/integrations', { provider: 'fake-key', unique_key: 'key' }), 200);
  await ok(
    ts.api('POST', '/connections', {
      provider_config_key: 'api',
      connection_id: 'c1',
      credentials: {
        type: 'OAUTH2',
        access_token: 'access-initial',
        refresh_token: 'r1',
        expires_at: '2099-01-01T00:00:00Z',
      },
    }),
    201,
  );
  await ok(
    ts.api('POST', '/connections', {
      provider_config_key: 'api',
      connection_id: 'stale',
      credentials: {
        type: 'OAUTH2',
        access_token: 'expired-token',
        refresh_token: 'r2',
        expires_at: '2099-01-01T00:00:00Z',
      },
    }),
    201,
  );
  await ok(
    ts.api('POST', '/connections', {
      provider_config_key: 'key',
      connection_id: 'k1',
      credentials: { type: 'API_KEY', apiKey: 'sk_live_secret' },
    }),
    201,
  );
}

/** A runtime host whose only working method is `proxy` (logs are dropped): enough for proxy-only scripts. */
export function hostWith(proxy: RuntimeHost['proxy']): RuntimeHost {
  const unused = () => Promise.reject(new Error('not used by this script'));
  return {
    proxy,
    batchSave: unused,
    batchUpdate: unused,
    batchDelete: unused,
    getRecordsByIds: unused,
    listRecords: unused,
    setMetadata: unused,
    updateMetadata: unused,
    getConnection: unused,
    getCheckpoint: unused,
    saveCheckpoint: unused,
    clearCheckpoint: unused,
    trackDeletesStart: unused,
    trackDeletesEnd: unused,
    setMergingStrategy: unused,
    log: () => Promise.resolve(),
    getEnvironmentVariables: () => Promise.resolve([]),
  };
}
