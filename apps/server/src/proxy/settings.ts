import type { LookupFunction } from '../outbound/guard.js';

/**
 * Operator settings of the proxy (environment variables `FERRY_PROXY_*`). `allowPrivateNetworks`,
 * `connectTimeoutMs` and `lookup` apply to every outbound request (see `outbound/client.ts`).
 */
export interface ProxySettings {
  /**
   * Which private, loopback, link-local, metadata and other non-global addresses outbound requests (the
   * proxy, credential verification, token requests) may reach: `false` (none, the default), `true` (all),
   * or a list of addresses and CIDR ranges (e.g. `10.0.0.0/8`, `127.0.0.1`).
   */
  allowPrivateNetworks: boolean | string[];
  /** Time to open a connection to the provider, per attempt. */
  connectTimeoutMs: number;
  /** Total time of one proxied request from its arrival until the final response starts, retries included. */
  timeoutMs: number;
  /** Server-side cap on the `Retries` a caller asks for. */
  maxRetries: number;
  /** Longest wait before a retry; a provider asking for more gets its 429 passed back instead. */
  maxWaitMs: number;
  /** First exponential-backoff delay (doubled on each retry, with jitter). */
  backoffBaseMs: number;
  /** Redirects followed per attempt (each one checked by the SSRF guard). */
  maxRedirects: number;
  /** `same-host`: `Base-Url-Override` may only change the path prefix; `any`: any public URL; `off`: refused. */
  baseUrlOverride: 'same-host' | 'any' | 'off';
  /**
   * How long a connection's resolved credentials are reused by the proxy before they are read again
   * (0: every request reads them). A 401 always re-reads and refreshes.
   */
  connectionCacheMs: number;
  /** Largest response a script's `nango.proxy` buffers. */
  maxScriptResponseBytes: number;
  /**
   * Body bytes streamed (either way) between two young-generation collections, which free the buffers
   * streamed chunks leave behind (see `StreamReclaimer`); 0 leaves it to V8.
   */
  reclaimEveryBytes: number;
  /** Resolves host names (tests map names to addresses); defaults to `dns.lookup`. */
  lookup?: LookupFunction | undefined;
}

export type { LookupFunction } from '../outbound/guard.js';

/** The defaults used when a setting is not given. */
export const defaultProxySettings: ProxySettings = {
  allowPrivateNetworks: false,
  connectTimeoutMs: 10_000,
  timeoutMs: 120_000,
  maxRetries: 10,
  maxWaitMs: 60_000,
  backoffBaseMs: 500,
  maxRedirects: 5,
  baseUrlOverride: 'same-host',
  maxScriptResponseBytes: 64 * 1024 * 1024,
  connectionCacheMs: 1000,
  reclaimEveryBytes: 8 * 1024 * 1024,
};

/**
 * Parses `FERRY_PROXY_ALLOW_PRIVATE_NETWORKS`: `true`/`false`, or a comma-separated list of addresses
 * and CIDR ranges.
 */
export function parseAllowPrivateNetworks(value: string | undefined): boolean | string[] {
  const v = (value ?? '').trim();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
