import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ferry } from './client.js';
import { ClientErrorCode, FerryError, isFerryError } from './errors.js';

const ORIGIN = 'http://ferry.test';
const KEY = '8a4c8e3c-6b1f-4b0e-9d36-1f4f4d0b7c2a';

let agent: MockAgent;
let ferry: Ferry;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  ferry = new Ferry({ host: ORIGIN, secretKey: KEY, dispatcher: agent, timeoutMs: 200 });
});

afterEach(async () => {
  await agent.close();
});

function reply(status: number, body: string, contentType = 'application/json') {
  return agent
    .get(ORIGIN)
    .intercept({ path: () => true, method: () => true })
    .reply(status, body, { headers: { 'content-type': contentType } });
}

async function caught(promise: Promise<unknown>): Promise<FerryError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('error responses', () => {
  it.each([
    {
      given: { status: 404, body: { error: { code: 'unknown_connection', message: 'No connection c1' } } },
      want: { code: 'unknown_connection', status: 404, message: 'No connection c1', errors: undefined },
    },
    {
      given: {
        status: 400,
        body: {
          error: {
            code: 'invalid_body',
            message: 'Invalid body',
            errors: [{ path: 'end_user.id', message: 'Required', code: 'invalid_type' }, 'junk'],
          },
        },
      },
      want: {
        code: 'invalid_body',
        status: 400,
        message: 'Invalid body',
        errors: [{ path: 'end_user.id', message: 'Required', code: 'invalid_type' }],
      },
    },
    {
      given: { status: 401, body: { error: { code: 'unknown_account' } } },
      want: { code: 'unknown_account', status: 401, message: 'unknown_account', errors: undefined },
    },
    {
      given: { status: 409, body: { error: { code: 'duplicate_integration', message: 'Taken' } } },
      want: { code: 'duplicate_integration', status: 409, message: 'Taken', errors: undefined },
    },
  ])('maps $given.status $want.code to FerryError', async ({ given, want }) => {
    reply(given.status, JSON.stringify(given.body));
    const error = await caught(ferry.getConnection('gh', 'c1'));
    expect({ code: error.code, status: error.status, message: error.message, errors: error.errors }).toEqual(
      want,
    );
    expect(error.name).toBe('FerryError');
    expect(isFerryError(error)).toBe(true);
  });

  it('keeps the payload of an error', async () => {
    const payload = { provider: { error: 'invalid_grant' } };
    reply(
      424,
      JSON.stringify({ error: { code: 'invalid_credentials', message: 'Refresh failed', payload } }),
    );
    const error = await caught(ferry.getConnection('gh', 'c1', { forceRefresh: true }));
    expect(error.payload).toEqual(payload);
  });

  it.each([
    { name: 'an HTML 502 page', status: 502, body: '<html>Bad gateway</html>', contentType: 'text/html' },
    { name: 'JSON without an envelope', status: 500, body: '{"oops":true}', contentType: 'application/json' },
    { name: 'an empty error body', status: 503, body: '', contentType: 'text/plain' },
    { name: 'a 200 that is not JSON', status: 200, body: 'ok', contentType: 'text/plain' },
  ])('turns $name into unexpected_response', async ({ status, body, contentType }) => {
    reply(status, body, contentType);
    const error = await caught(ferry.listIntegrations());
    expect(error.code).toBe(ClientErrorCode.unexpectedResponse);
    expect(error.status).toBe(status);
  });
});

describe('network failures', () => {
  it('maps a connection error to network_error with status 0', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/integrations', method: 'GET' })
      .replyWithError(new Error('connect ECONNREFUSED'));
    const error = await caught(ferry.listIntegrations());
    expect(error).toMatchObject({ code: 'network_error', status: 0 });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('times out a slow response with network_error', async () => {
    reply(200, '{"data":[]}').delay(5_000);
    // The client's own 200 ms timeout ended it: the delayed answer would have been a success.
    const error = await caught(ferry.listIntegrations());
    expect(error.code).toBe('network_error');
    expect(error.message).toContain('timed out after 200 ms');
  });

  it('never puts the secret key in an error message', async () => {
    reply(401, JSON.stringify({ error: { code: 'unknown_account', message: 'Unknown key' } }));
    const error = await caught(ferry.listIntegrations());
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(KEY);
  });
});

describe('own keep-alive pool against a local server', () => {
  let server: Server;
  let host: string;
  let sockets: Socket[];

  beforeEach(async () => {
    sockets = [];
    server = createServer((req, res) => {
      if (req.url?.startsWith('/hang/') === true) return; // never answers
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok' }));
    });
    server.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps connections alive across sequential requests', async () => {
    const client = new Ferry({ host, secretKey: KEY });
    for (let i = 0; i < 10; i++) await expect(client.health()).resolves.toEqual({ status: 'ok' });
    // undici frees a connection one tick after the body ends, so a back-to-back call may open a second one.
    expect(sockets.length).toBeLessThanOrEqual(2);
    await client.close();
  });

  it('times out a request that gets no answer', async () => {
    const client = new Ferry({ host: `${host}/hang`, secretKey: KEY, timeoutMs: 100 });
    const error = await caught(client.health());
    expect(error.code).toBe('network_error');
    await client.close();
  });

  it('gives network_error when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const client = new Ferry({ host: `http://127.0.0.1:${port}`, secretKey: KEY, timeoutMs: 1_000 });
    const error = await caught(client.health());
    expect(error).toMatchObject({ code: 'network_error', status: 0 });
    await client.close();
  });
});

describe('isFerryError', () => {
  it.each([
    { given: new FerryError({ code: 'x', message: 'm', status: 400 }), want: true },
    { given: Object.assign(new Error('m'), { name: 'FerryError', code: 'x', status: 0 }), want: true },
    { given: new Error('m'), want: false },
    { given: { name: 'FerryError', code: 1, status: 0 }, want: false },
    { given: null, want: false },
  ])('$given → $want', ({ given, want }) => {
    expect(isFerryError(given)).toBe(want);
  });
});
