import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ferry } from './client.js';
import { isAuthError } from './errors.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Ferry', () => {
  it.each(['', 'ftp://x', 'not a url'])('throws TypeError for host %j', (host) => {
    expect(() => new Ferry({ host, connectSessionToken: 't' })).toThrow(TypeError);
  });

  it('throws TypeError for a missing integration key', () => {
    const ferry = new Ferry({ host: 'http://127.0.0.1:3003', connectSessionToken: 't' });
    expect(() => ferry.auth('')).toThrow(TypeError);
  });

  it('rejects with missing_connect_session_token without a token', async () => {
    const ferry = new Ferry({ host: 'http://127.0.0.1:3003', connectSessionToken: '' });
    const err: unknown = await ferry.auth('github').catch((e: unknown) => e);
    expect(isAuthError(err) && err.code).toBe('missing_connect_session_token');
  });

  it.each([
    { credentials: { apiKey: 'k' }, path: '/api-auth/api-key/stripe' },
    { credentials: { username: 'u', password: 'p' }, path: '/api-auth/basic/stripe' },
    { credentials: { client_id: 'i', client_secret: 's' }, path: '/oauth2/auth/stripe' },
  ])('posts $credentials to $path with the session token, no popup', async ({ credentials, path }) => {
    const fetch = vi.fn(async () => Response.json({ providerConfigKey: 'stripe', connectionId: 'c1' }));
    vi.stubGlobal('fetch', fetch);
    const ferry = new Ferry({ host: 'http://127.0.0.1:3003/', connectSessionToken: 'tok' });
    await expect(ferry.auth('stripe', { credentials, params: { region: 'eu' } })).resolves.toEqual({
      providerConfigKey: 'stripe',
      connectionId: 'c1',
    });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(`http://127.0.0.1:3003${path}`);
    expect(init.headers).toMatchObject({ authorization: 'Bearer tok' });
    expect(JSON.parse(init.body as string)).toEqual({ ...credentials, connection_config: { region: 'eu' } });
  });

  it('turns a server error into an AuthError with its code', async () => {
    vi.stubGlobal('fetch', async () =>
      Response.json({ error: { code: 'connection_test_failed', message: 'refused' } }, { status: 400 }),
    );
    const ferry = new Ferry({ host: 'http://127.0.0.1:3003', connectSessionToken: 'tok' });
    const err: unknown = await ferry.create('none').catch((e: unknown) => e);
    expect(isAuthError(err) && [err.code, err.message]).toEqual(['connection_test_failed', 'refused']);
  });
});
