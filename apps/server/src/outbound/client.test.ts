import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbound, OutboundUnreachableError } from './client.js';
import { FORBIDDEN_ADDRESS } from './guard.js';

let server: Server;
let port: number;
let closedPort: number;
let seen = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen += 1;
    if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    else res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
});
afterAll(() => new Promise((r) => server.close(r)));

const get = { method: 'GET', headers: {}, timeoutMs: 5000 } as const;

/** What `request` threw: its class, message, and the code deepest in its causes. */
async function failure(outbound: Outbound, url: string) {
  const err = await outbound.request(url, get).then(
    () => undefined,
    (e: unknown) => e,
  );
  let code: unknown;
  for (let e = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause)
    code = (e as { code?: unknown }).code ?? code;
  return { unreachable: err instanceof OutboundUnreachableError, message: (err as Error)?.message, code };
}

describe('Outbound.request', () => {
  it('refuses IP-literal and mapped-IPv6 hosts at connect time without sending anything', async () => {
    const strict = new Outbound({ allowPrivateNetworks: false, connectTimeoutMs: 2000 });
    const before = seen;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::1]']) {
      expect(await failure(strict, `http://${host}:${port}/`), host).toEqual({
        unreachable: true,
        message: 'the host could not be reached',
        code: FORBIDDEN_ADDRESS,
      });
    }
    expect(seen).toBe(before);
    await strict.close();
  });

  it('says the same for a closed port as for a refused address, and reaches allowed ones', async () => {
    const allowed = new Outbound({ allowPrivateNetworks: ['127.0.0.1'], connectTimeoutMs: 2000 });
    const closed = await failure(allowed, `http://127.0.0.1:${closedPort}/`);
    expect([closed.unreachable, closed.message, closed.code]).toEqual([
      true,
      'the host could not be reached',
      'ECONNREFUSED',
    ]);
    expect(await allowed.request(`http://127.0.0.1:${port}/`, get)).toEqual({ status: 200, text: 'hello' });
    await allowed.close();
  });

  it('does not follow redirects', async () => {
    const allowed = new Outbound({ allowPrivateNetworks: ['127.0.0.1'], connectTimeoutMs: 2000 });
    const res = await allowed.request(`http://127.0.0.1:${port}/redirect`, get);
    expect(res.status).toBe(302);
    await allowed.close();
  });

  it('reports an unusable URL the same way', async () => {
    const strict = new Outbound({ allowPrivateNetworks: false, connectTimeoutMs: 2000 });
    for (const url of ['not a url', 'file:///etc/passwd'])
      expect((await failure(strict, url)).message, url).toBe('the host could not be reached');
    await strict.close();
  });
});
