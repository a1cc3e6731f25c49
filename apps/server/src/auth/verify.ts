import { interpolateObject, tryInterpolate, type Provider } from '@ferry/providers';
import { request } from 'undici';
import { FerryError } from '../errors.js';

const TIMEOUT_MS = 10_000;

/** API-key or basic credentials to test. */
export type TestableCredentials =
  { type: 'API_KEY'; apiKey: string } | { type: 'BASIC'; username: string; password: string };

/**
 * Tests API-key or basic credentials against the provider's `proxy.verification` endpoints before they are saved:
 * the request is built like a proxy call (base URL, headers and query interpolated with the credentials and the
 * connection config; basic credentials go in an `Authorization: Basic` header unless the provider sets one), and
 * one 2xx answer among the endpoints is enough. Providers without a verification endpoint are not tested.
 * @throws FerryError `connection_test_failed` with the provider's status in `payload`
 */
export async function verifyCredentials(
  provider: Provider,
  credentials: TestableCredentials,
  connectionConfig: Record<string, unknown>,
): Promise<void> {
  const v = provider.proxy?.verification;
  if (!v || !provider.proxy) return;
  const ctx = {
    connectionConfig,
    credentials: credentials as unknown as Record<string, unknown>,
    ...(credentials.type === 'API_KEY' ? { apiKey: credentials.apiKey } : {}),
  };
  const base = tryInterpolate(v.base_url_override ?? provider.proxy.base_url, ctx);
  if (!base) {
    throw new FerryError(
      'connection_test_failed',
      'The provider URL needs connection config that was not given.',
    );
  }
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...interpolateObject(provider.proxy.headers, ctx),
    ...interpolateObject(v.headers, ctx),
  };
  if (
    credentials.type === 'BASIC' &&
    !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
  ) {
    headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  }
  const query = interpolateObject(provider.proxy.query, ctx);
  const body = v.data === undefined ? undefined : JSON.stringify(v.data);
  if (body !== undefined) headers['content-type'] = 'application/json';
  let last = 'no endpoint answered';
  let lastStatus: number | null = null;
  for (const endpoint of v.endpoints) {
    const url = new URL(base.replace(/\/+$/, '') + '/' + endpoint.replace(/^\/+/, ''));
    for (const [k, val] of Object.entries(query)) url.searchParams.set(k, val);
    try {
      const res = await request(url, {
        method: v.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return;
      lastStatus = res.statusCode;
      last = `HTTP ${res.statusCode} from ${url.host}${url.pathname}`;
    } catch (err) {
      last = `${url.host} could not be reached (${(err as Error).message})`;
    }
  }
  throw new FerryError('connection_test_failed', `The provider did not accept the credentials: ${last}.`, {
    payload: { status: lastStatus },
  });
}
