import type { Logger } from '../logger.js';
import { createAddressPolicy, type AddressPolicy } from './addressPolicy.js';
import type { LookupFunction } from './guard.js';
import { PoolCache } from './pools.js';

/** Operator settings of outbound requests (from `FERRY_PROXY_*`; the proxy and the auth calls share them). */
export interface OutboundSettings {
  /** Private and reserved addresses that may be reached: `false` (none), `true` (all), or addresses and CIDR ranges. */
  allowPrivateNetworks: boolean | string[];
  /** Time to open a connection. */
  connectTimeoutMs: number;
  /** Resolves host names (tests map names to addresses); defaults to `dns.lookup`. */
  lookup?: LookupFunction | undefined;
}

/**
 * A request that got no HTTP answer: the host is refused by the address policy, refused the connection, did
 * not answer in time, or the URL is unusable. The message is the same in every case, so that a caller who
 * chooses the host (a `connection_config` value in a provider URL) cannot tell a closed port from a blocked
 * address; the reason goes to the server log only.
 */
export class OutboundUnreachableError extends Error {
  override readonly name = 'OutboundUnreachableError';
  /** `host:port` of the URL, for the server log (not in the message: a URL may carry user input). */
  readonly host: string;
  constructor(host: string, options: { cause: unknown }) {
    super('the host could not be reached', options);
    this.host = host;
  }
}

/** One outbound HTTP request made on a user's behalf outside the proxy (verification, tokens). */
export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  headers: Record<string, string>;
  body?: string | undefined;
  /** Time allowed for the response head, and then between body chunks. */
  timeoutMs: number;
  /** Only the status matters: the body is discarded unread (`text` is empty). */
  discardBody?: boolean | undefined;
}

function reasonOf(err: unknown): string {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error ? err.name : 'unknown';
}

/**
 * The one way the server reaches other hosts on a user's behalf: the proxy (through {@link Outbound.pools}),
 * credential verification, OAuth 1 and 2 token requests, refreshes and GitHub App tokens (through
 * {@link Outbound.request}). Every connection is checked against the same address policy at connect time,
 * after DNS, for IP literals and names alike; redirects are not followed here (the proxy follows them itself,
 * each hop through the same pools). One instance per server, built with the services.
 */
export class Outbound {
  /** The address policy (`FERRY_PROXY_ALLOW_PRIVATE_NETWORKS`). */
  readonly policy: AddressPolicy;
  /** Keep-alive pools per origin, every socket checked by the policy. */
  readonly pools: PoolCache;
  readonly #logger: Logger | undefined;

  constructor(settings: OutboundSettings, logger?: Logger) {
    this.policy = createAddressPolicy(settings.allowPrivateNetworks);
    this.pools = new PoolCache({
      policy: this.policy,
      connectTimeoutMs: settings.connectTimeoutMs,
      lookup: settings.lookup,
    });
    this.#logger = logger;
  }

  /**
   * Sends a request and reads the whole answer as text, whatever its status (an HTTP error from the provider
   * is an answer). Redirects are not followed.
   * @throws OutboundUnreachableError when no answer came, for whatever reason (same message for all).
   */
  async request(url: string, init: OutboundRequest): Promise<{ status: number; text: string }> {
    let target: URL | undefined;
    try {
      target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:')
        throw new TypeError(`unsupported protocol ${target.protocol}`);
      const res = await this.pools.get(target.origin).request({
        method: init.method,
        path: target.pathname + target.search,
        headers: init.headers,
        body: init.body ?? null,
        headersTimeout: init.timeoutMs,
        bodyTimeout: init.timeoutMs,
      });
      if (init.discardBody) {
        await res.body.dump();
        return { status: res.statusCode, text: '' };
      }
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      const host = target?.host ?? '';
      this.#logger?.warn({ host, reason: reasonOf(err) }, 'outbound request got no answer');
      throw new OutboundUnreachableError(host, { cause: err });
    }
  }

  /** Closes every pooled connection. */
  close(): Promise<void> {
    return this.pools.close();
  }
}
