import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from './settings.js';

/** Raised (as a connect error) when a host resolves to an address the proxy must not reach. */
export const FORBIDDEN_ADDRESS = 'FERRY_FORBIDDEN_ADDRESS';

const V4_PRIVATE: [string, number][] = [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const V6_PRIVATE: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['fd00:ec2::', 32], // AWS metadata over IPv6
];

function blockListOf(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [address, prefix, family] of entries) list.addSubnet(address, prefix, family);
  return list;
}

const privateRanges = blockListOf([
  ...V4_PRIVATE.map(([a, p]): [string, number, 'ipv4'] => [a, p, 'ipv4']),
  ...V6_PRIVATE.map(([a, p]): [string, number, 'ipv6'] => [a, p, 'ipv6']),
]);

/** Decides which resolved addresses the proxy may connect to. */
export interface AddressPolicy {
  /** True when `address` (an IP literal) may be reached. */
  allows(address: string): boolean;
}

/**
 * Builds the address policy: public addresses always, private/loopback/link-local/metadata ones only
 * as `allowPrivateNetworks` says (`true`, or a list of addresses and CIDR ranges).
 * @throws TypeError for an invalid entry in the list.
 */
export function createAddressPolicy(allowPrivateNetworks: boolean | string[]): AddressPolicy {
  if (allowPrivateNetworks === true) return { allows: () => true };
  const allowed = new BlockList();
  for (const entry of allowPrivateNetworks === false ? [] : allowPrivateNetworks) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new TypeError(`not an IP address or CIDR range: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) allowed.addAddress(address, type);
    else allowed.addSubnet(address, Number(prefix), type);
  }
  const known = new Map<string, boolean>();
  const check = (address: string): boolean => {
    const family = isIP(address);
    if (family === 0) return false;
    let ip = address;
    let type: 'ipv4' | 'ipv6' = family === 4 ? 'ipv4' : 'ipv6';
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) {
      ip = mapped[1];
      type = 'ipv4';
    }
    if (!privateRanges.check(ip, type)) return true;
    return allowed.check(ip, type);
  };
  return {
    allows(address) {
      // BlockList.check allocates; the same few upstream addresses come back on every request.
      let verdict = known.get(address);
      if (verdict === undefined) {
        verdict = check(address);
        if (known.size >= 4096) known.clear();
        known.set(address, verdict);
      }
      return verdict;
    },
  };
}

/** Strips the brackets of an IPv6 URL host. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
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
          const err = new Error(
            `Refusing to connect to ${hostname}: it resolves to a private or reserved address.`,
          ) as NodeJS.ErrnoException;
          err.code = FORBIDDEN_ADDRESS;
          callback(err, '');
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
