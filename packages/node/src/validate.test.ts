import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ferry } from './client.js';
import type { FerryOptions } from './options.js';

const KEY = '8a4c8e3c-6b1f-4b0e-9d36-1f4f4d0b7c2a';
let agent: MockAgent;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});

afterEach(async () => {
  agent.assertNoPendingInterceptors();
  await agent.close();
});

describe('new Ferry() misuse throws TypeError', () => {
  const good = { host: 'http://localhost:3003', secretKey: KEY };
  it.each([
    { name: 'no options', given: undefined },
    { name: 'host missing', given: { secretKey: KEY } },
    { name: 'host not a URL', given: { ...good, host: 'localhost' } },
    { name: 'host ftp', given: { ...good, host: 'ftp://localhost' } },
    { name: 'secretKey missing', given: { host: good.host } },
    { name: 'secretKey empty', given: { ...good, secretKey: '' } },
    { name: 'secretKey a number', given: { ...good, secretKey: 42 } },
    { name: 'secretKey with a newline', given: { ...good, secretKey: `${KEY}\r\nx-evil: 1` } },
    { name: 'timeoutMs zero', given: { ...good, timeoutMs: 0 } },
    { name: 'timeoutMs NaN', given: { ...good, timeoutMs: Number.NaN } },
    { name: 'timeoutMs a string', given: { ...good, timeoutMs: '100' } },
    { name: 'dispatcher not a dispatcher', given: { ...good, dispatcher: {} } },
  ])('$name', ({ given }) => {
    expect(() => new Ferry(given as unknown as FerryOptions)).toThrow(TypeError);
  });

  it('does not echo the secret key', () => {
    const secret = 'not-a-url-but-a-secret';
    expect(() => new Ferry({ host: secret, secretKey: KEY })).toThrow(/^(?!.*not-a-url-but-a-secret)/);
  });
});

describe('method misuse throws TypeError before any request', () => {
  // Any request would fail the test: disableNetConnect plus no interceptors.
  const cases: { name: string; call: (f: Ferry) => Promise<unknown> }[] = [
    { name: 'getProvider("")', call: (f) => f.getProvider('') },
    { name: 'listProviders("git")', call: (f) => f.listProviders('git' as never) },
    { name: 'createIntegration(null)', call: (f) => f.createIntegration(null as never) },
    { name: 'createIntegration([])', call: (f) => f.createIntegration([] as never) },
    { name: 'getIntegration(undefined)', call: (f) => f.getIntegration(undefined as never) },
    {
      name: 'getIntegration with bad include',
      call: (f) => f.getIntegration('gh', { include: [{}] as never }),
    },
    { name: 'updateIntegration without body', call: (f) => f.updateIntegration('gh', undefined as never) },
    { name: 'deleteIntegration(1)', call: (f) => f.deleteIntegration(1 as never) },
    { name: 'createConnection("x")', call: (f) => f.createConnection('x' as never) },
    { name: 'getConnection without connectionId', call: (f) => f.getConnection('gh', undefined as never) },
    { name: 'getConnection with options null', call: (f) => f.getConnection('gh', 'c1', null as never) },
    { name: 'getToken without key', call: (f) => f.getToken('', 'c1') },
    { name: 'patchConnection without body', call: (f) => f.patchConnection('gh', 'c1', undefined as never) },
    { name: 'deleteConnection(undefined, c1)', call: (f) => f.deleteConnection(undefined as never, 'c1') },
    { name: 'setMetadata with empty id list', call: (f) => f.setMetadata('gh', [], {}) },
    { name: 'setMetadata with a number id', call: (f) => f.setMetadata('gh', [1] as never, {}) },
    { name: 'updateMetadata with null metadata', call: (f) => f.updateMetadata('gh', 'c1', null as never) },
    { name: 'getMetadata without id', call: (f) => f.getMetadata('gh', '') },
    { name: 'createConnectSession("u")', call: (f) => f.createConnectSession('u' as never) },
    { name: 'createReconnectSession(null)', call: (f) => f.createReconnectSession(null as never) },
    { name: 'getConnectSession(undefined)', call: (f) => f.getConnectSession(undefined as never) },
    { name: 'deleteConnectSession("")', call: (f) => f.deleteConnectSession('') },
    { name: 'getConnectSession with a space', call: (f) => f.getConnectSession('a b') },
    { name: 'listOperations with bad limit', call: (f) => f.listOperations({ limit: Number.NaN }) },
    { name: 'getOperation("")', call: (f) => f.getOperation('') },
    { name: 'listOperationMessages(null)', call: (f) => f.listOperationMessages(null as never) },
  ];
  it.each(cases)('$name', async ({ call }) => {
    const ferry = new Ferry({ host: 'http://ferry.test', secretKey: KEY, dispatcher: agent });
    await expect(call(ferry)).rejects.toThrow(TypeError);
  });
});
