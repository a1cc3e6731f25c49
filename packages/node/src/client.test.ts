import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ferry } from './client.js';

const ORIGIN = 'http://ferry.test';
const KEY = '8a4c8e3c-6b1f-4b0e-9d36-1f4f4d0b7c2a';
const SESSION = `ferry_connect_session_${'ab'.repeat(32)}`;

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

let agent: MockAgent;
let seen: Seen[];
let ferry: Ferry;

/** Answers every request with `status`/`data` and records what was sent. */
function answer(status: number, data: unknown): void {
  agent
    .get(ORIGIN)
    .intercept({ path: () => true, method: () => true })
    .reply(({ method, path, headers, body }) => {
      seen.push({
        method,
        path,
        headers: headers as Record<string, string>,
        body: typeof body === 'string' ? JSON.parse(body) : undefined,
      });
      return {
        statusCode: status,
        data: data === undefined ? '' : JSON.stringify(data),
        responseOptions: { headers: { 'content-type': 'application/json' } },
      };
    });
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  seen = [];
  ferry = new Ferry({ host: `${ORIGIN}/`, secretKey: KEY, dispatcher: agent });
});

afterEach(async () => {
  await agent.close();
});

describe('requests', () => {
  const metadata = { plan: 'pro' };
  const cases: { name: string; call: (f: Ferry) => Promise<unknown>; want: Omit<Seen, 'headers'> }[] = [
    { name: 'health', call: (f) => f.health(), want: { method: 'GET', path: '/health', body: undefined } },
    {
      name: 'listProviders',
      call: (f) => f.listProviders({ search: 'git' }),
      want: { method: 'GET', path: '/providers?search=git', body: undefined },
    },
    {
      name: 'getProvider',
      call: (f) => f.getProvider('google-calendar'),
      want: { method: 'GET', path: '/providers/google-calendar', body: undefined },
    },
    {
      name: 'listIntegrations',
      call: (f) => f.listIntegrations(),
      want: { method: 'GET', path: '/integrations', body: undefined },
    },
    {
      name: 'createIntegration',
      call: (f) => f.createIntegration({ provider: 'github', unique_key: 'gh' }),
      want: { method: 'POST', path: '/integrations', body: { provider: 'github', unique_key: 'gh' } },
    },
    {
      name: 'getIntegration',
      call: (f) => f.getIntegration('my gh', { include: ['webhook', 'credentials'] }),
      want: {
        method: 'GET',
        path: '/integrations/my%20gh?include=webhook&include=credentials',
        body: undefined,
      },
    },
    {
      name: 'updateIntegration',
      call: (f) => f.updateIntegration('gh', { display_name: 'GitHub' }),
      want: { method: 'PATCH', path: '/integrations/gh', body: { display_name: 'GitHub' } },
    },
    {
      name: 'deleteIntegration',
      call: (f) => f.deleteIntegration('gh'),
      want: { method: 'DELETE', path: '/integrations/gh', body: undefined },
    },
    {
      name: 'createConnection',
      call: (f) =>
        f.createConnection({ provider_config_key: 'gh', credentials: { type: 'API_KEY', apiKey: 'k' } }),
      want: {
        method: 'POST',
        path: '/connections',
        body: { provider_config_key: 'gh', credentials: { type: 'API_KEY', apiKey: 'k' } },
      },
    },
    {
      name: 'listConnections',
      call: (f) =>
        f.listConnections({
          endUserId: 'u1',
          integrationId: 'a,b',
          tags: { team: 'core' },
          limit: 5,
          page: 1,
        }),
      want: {
        method: 'GET',
        path: '/connections?endUserId=u1&integrationId=a%2Cb&tags%5Bteam%5D=core&limit=5&page=1',
        body: undefined,
      },
    },
    {
      name: 'getConnection',
      call: (f) => f.getConnection('gh', 'a/b', { forceRefresh: true, refreshToken: false }),
      want: {
        method: 'GET',
        path: '/connections/a%2Fb?provider_config_key=gh&force_refresh=true&refresh_token=false',
        body: undefined,
      },
    },
    {
      name: 'patchConnection',
      call: (f) => f.patchConnection('gh', 'c1', { webhook_url_override: null }),
      want: {
        method: 'PATCH',
        path: '/connections/c1?provider_config_key=gh',
        body: { webhook_url_override: null },
      },
    },
    {
      name: 'deleteConnection',
      call: (f) => f.deleteConnection('g h', 'c1'),
      want: { method: 'DELETE', path: '/connections/c1?provider_config_key=g+h', body: undefined },
    },
    {
      name: 'setMetadata',
      call: (f) => f.setMetadata('gh', ['c1', 'c2'], metadata),
      want: {
        method: 'POST',
        path: '/connections/metadata',
        body: { connection_id: ['c1', 'c2'], provider_config_key: 'gh', metadata },
      },
    },
    {
      name: 'updateMetadata',
      call: (f) => f.updateMetadata('gh', 'c1', metadata),
      want: {
        method: 'PATCH',
        path: '/connections/metadata',
        body: { connection_id: 'c1', provider_config_key: 'gh', metadata },
      },
    },
    {
      name: 'createConnectSession',
      call: (f) => f.createConnectSession({ end_user: { id: 'u1' }, allowed_integrations: ['gh'] }),
      want: {
        method: 'POST',
        path: '/connect/sessions',
        body: { end_user: { id: 'u1' }, allowed_integrations: ['gh'] },
      },
    },
    {
      name: 'createReconnectSession',
      call: (f) => f.createReconnectSession({ connection_id: 'c1', integration_id: 'gh' }),
      want: {
        method: 'POST',
        path: '/connect/sessions/reconnect',
        body: { connection_id: 'c1', integration_id: 'gh' },
      },
    },
    {
      name: 'listOperations',
      call: (f) => f.listOperations({ limit: 10, kind: 'auth', from: '2026-11-27T15:00:00.000Z' }),
      want: {
        method: 'GET',
        path: '/logs/operations?limit=10&kind=auth&from=2026-11-27T15%3A00%3A00.000Z',
        body: undefined,
      },
    },
    {
      name: 'getOperation',
      call: (f) => f.getOperation('op1'),
      want: { method: 'GET', path: '/logs/operations/op1', body: undefined },
    },
    {
      name: 'listOperationMessages',
      call: (f) => f.listOperationMessages('op1', { cursor: 'abc' }),
      want: { method: 'GET', path: '/logs/operations/op1/messages?cursor=abc', body: undefined },
    },
  ];

  it.each(cases)('$name sends $want.method $want.path with the secret key', async ({ call, want }) => {
    answer(200, { data: [] });
    await call(ferry);
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect({ method: request!.method, path: request!.path, body: request!.body }).toEqual(want);
    expect(request!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request!.headers.accept).toBe('application/json');
    expect(request!.headers['content-type']).toBe(want.body === undefined ? undefined : 'application/json');
  });

  it('keeps a path prefix of the host', async () => {
    const prefixed = new Ferry({ host: `${ORIGIN}/ferry/`, secretKey: KEY, dispatcher: agent });
    answer(200, { status: 'ok' });
    await prefixed.health();
    expect(seen[0]!.path).toBe('/ferry/health');
  });

  it('returns the JSON body', async () => {
    answer(200, { status: 'ok' });
    await expect(ferry.health()).resolves.toEqual({ status: 'ok' });
  });
});

describe('connect session routes', () => {
  it('getConnectSession authenticates with the session token', async () => {
    answer(200, { data: { tags: {} } });
    await ferry.getConnectSession(SESSION);
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/connect/session' });
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${SESSION}`);
  });

  it('deleteConnectSession resolves to undefined on 204', async () => {
    answer(204, undefined);
    await expect(ferry.deleteConnectSession(SESSION)).resolves.toBeUndefined();
    expect(seen[0]).toMatchObject({ method: 'DELETE', path: '/connect/session' });
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${SESSION}`);
  });
});

describe('derived reads', () => {
  const connection = (credentials: unknown, metadata: unknown = null) => ({
    id: 1,
    connection_id: 'c1',
    provider_config_key: 'gh',
    provider: 'github',
    metadata,
    credentials,
  });

  it.each([
    { given: { type: 'OAUTH2', access_token: 'at', raw: {} }, want: 'at' },
    {
      given: { type: 'OAUTH1', oauth_token: 't', oauth_token_secret: 's', raw: {} },
      want: { oAuthToken: 't', oAuthTokenSecret: 's' },
    },
    { given: { type: 'API_KEY', apiKey: 'k' }, want: { type: 'API_KEY', apiKey: 'k' } },
    { given: {}, want: {} },
  ])('getToken of $given.type', async ({ given, want }) => {
    answer(200, connection(given));
    await expect(ferry.getToken('gh', 'c1')).resolves.toEqual(want);
    expect(seen[0]!.path).toBe('/connections/c1?provider_config_key=gh');
  });

  it('getToken forwards forceRefresh', async () => {
    answer(200, connection({ type: 'OAUTH2', access_token: 'at', raw: {} }));
    await ferry.getToken('gh', 'c1', { forceRefresh: true });
    expect(seen[0]!.path).toBe('/connections/c1?provider_config_key=gh&force_refresh=true');
  });

  it('getMetadata returns the metadata', async () => {
    answer(200, connection({}, { plan: 'pro' }));
    await expect(ferry.getMetadata('gh', 'c1')).resolves.toEqual({ plan: 'pro' });
  });
});
