import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import type { AddressPolicy } from './addressPolicy.js';

/** Raised (as a connect error) when a host is, or resolves to, an address outbound requests must not reach. */
export const FORBIDDEN_ADDRESS = 'FERRY_FORBIDDEN_ADDRESS';

/** `dns.lookup` with `{ all: true }`, as the guard calls it (tests map names to addresses). */
export type LookupFunction = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** Strips the brackets of an IPv6 URL host. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function forbidden(hostname: string): NodeJS.ErrnoException {
  const err = new Error(
    `Refusing to connect to ${hostname}: it is or resolves to a private or reserved address.`,
  ) as NodeJS.ErrnoException;
  err.code = FORBIDDEN_ADDRESS;
  return err;
}

type NodeLookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

const systemLookup: LookupFunction = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/**
 * A `net.connect` lookup that resolves the name, then refuses it unless every address is allowed. The
 * socket connects to the address checked here, so a DNS answer cannot change between check and use.
 */
export function guardedLookup(policy: AddressPolicy, resolver: LookupFunction = systemLookup) {
  return (hostname: string, options: { all?: boolean }, callback: NodeLookupCallback): void => {
    resolver(hostname).then(
      (addresses) => {
        const refused = addresses.find((a) => !policy.allows(a.address));
        if (addresses.length === 0 || refused) {
          callback(forbidden(hostname), '');
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

/**
 * The undici connector of every outbound connection: `net.connect` skips the lookup for an IP-literal host,
 * so that host is checked here; a name goes through {@link guardedLookup}. Runs once per new socket, not per
 * request.
 */
export function guardedConnector(options: {
  policy: AddressPolicy;
  connectTimeoutMs: number;
  lookup?: LookupFunction | undefined;
}): buildConnector.connector {
  const connect = buildConnector({
    timeout: options.connectTimeoutMs,
    lookup: guardedLookup(options.policy, options.lookup),
  });
  return (opts, callback) => {
    const host = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname;
    if (isIP(host) !== 0 && !options.policy.allows(host)) {
      callback(forbidden(host), null);
      return;
    }
    connect(opts, callback);
  };
}
