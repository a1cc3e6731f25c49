import { interpolateObject, tryInterpolate, type Provider } from '@ferry/providers';
import { FerryError } from '../errors.js';
import { OutboundUnreachableError, type Outbound } from '../outbound/client.js';

const TIMEOUT_MS = 10_000;

/** API-key or basic credentials to test. */
export type TestableCredentials =
  { type: 'API_KEY'; apiKey: string } | { type: 'BASIC'; username: string; password: string };

/**
 * Tests API-key or basic credentials against the provider's `proxy.verification` endpoints before they are saved:
 * the request is built like a proxy call (base URL, headers and query interpolated with the credentials and the
 * connection config; basic credentials go in an `Authorization: Basic` header unless the provider sets one), and
 * one 2xx answer among the endpoints is enough. Providers without a verification endpoint are not tested.
 * The requests go through the server's outbound requests (`http`, with its address policy); one that gets no
 * answer is reported the same way whatever the reason (blocked address, closed port, timeout).
 * @throws FerryError `connection_test_failed` with the provider's status in `payload`
 */
export async function verifyCredentials(input: {
  http: Outbound;
  provider: Provider;
  credentials: TestableCredentials;
  connectionConfig: Record<string, unknown>;
}): Promise<void> {
  const { provider, credentials, connectionConfig } = input;
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
    let url: URL;
    try {
      url = new URL(base.replace(/\/+$/, '') + '/' + endpoint.replace(/^\/+/, ''));
    } catch {
      last = 'the provider URL is not valid';
      continue;
    }
    for (const [k, val] of Object.entries(query)) url.searchParams.set(k, val);
    try {
      const res = await input.http.request(url.href, {
        method: v.method,
        headers,
        body,
        timeoutMs: TIMEOUT_MS,
        discardBody: true,
      });
      if (res.status >= 200 && res.status < 300) return;
      lastStatus = res.status;
      last = `HTTP ${res.status} from ${url.host}${url.pathname}`;
    } catch (err) {
      // The same words for a refused address, a closed port and a timeout: no port scanning through here.
      if (!(err instanceof OutboundUnreachableError)) throw err;
      lastStatus = null;
      last = 'the provider could not be reached';
    }
  }
  throw new FerryError('connection_test_failed', `The provider did not accept the credentials: ${last}.`, {
    payload: { status: lastStatus },
  });
}
