import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/**
 * What a special-purpose block means for an outbound request: `blocked` (not globally reachable), or
 * `embedded` (the block carries an IPv4 address, which is judged by the IPv4 rules instead).
 */
type Verdict = 'blocked' | 'embedded';

/**
 * The rows of the IANA IPv4 Special-Purpose Address Registry
 * (https://www.iana.org/assignments/iana-ipv4-special-registry, RFC 6890) whose "Globally Reachable" is
 * False, plus multicast (224.0.0.0/4, RFC 5771), which that registry does not list.
 *
 * The registry marks a few more specific rows inside these blocks as globally reachable (192.0.0.9/32 PCP
 * anycast, 192.0.0.10/32 TURN anycast). They stay blocked with their block: they are anycast addresses of
 * services next to the server, not provider APIs. An operator who needs one lists it in
 * `FERRY_PROXY_ALLOW_PRIVATE_NETWORKS`.
 */
export const IPV4_NOT_GLOBAL: readonly (readonly [cidr: string, name: string])[] = [
  ['0.0.0.0/8', '"This network" (RFC 791); 0.0.0.0/32 "this host" (RFC 1122)'],
  ['10.0.0.0/8', 'Private-Use (RFC 1918)'],
  ['100.64.0.0/10', 'Shared Address Space, carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0/8', 'Loopback (RFC 1122)'],
  ['169.254.0.0/16', 'Link Local (RFC 3927), cloud metadata 169.254.169.254'],
  ['172.16.0.0/12', 'Private-Use (RFC 1918)'],
  [
    '192.0.0.0/24',
    'IETF Protocol Assignments (RFC 6890), with 192.0.0.0/29, 192.0.0.8/32, 192.0.0.170-171/32',
  ],
  ['192.0.2.0/24', 'Documentation, TEST-NET-1 (RFC 5737)'],
  ['192.88.99.2/32', '6a44-relay anycast address (RFC 6751)'],
  ['192.168.0.0/16', 'Private-Use (RFC 1918)'],
  ['198.18.0.0/15', 'Benchmarking (RFC 2544)'],
  ['198.51.100.0/24', 'Documentation, TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'Documentation, TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0/4', 'Multicast (RFC 5771; not in the special-purpose registry)'],
  ['240.0.0.0/4', 'Reserved (RFC 1112)'],
  ['255.255.255.255/32', 'Limited Broadcast (RFC 919)'],
];

/**
 * The rows of the IANA IPv6 Special-Purpose Address Registry
 * (https://www.iana.org/assignments/iana-ipv6-special-registry, RFC 6890) whose "Globally Reachable" is
 * False, plus the blocks that embed an IPv4 address (`embedded`: judged by that address) and a few blocks
 * outside the registry (multicast, deprecated site-local, IPv4-compatible, AWS's metadata address).
 * The most specific matching row decides.
 *
 * As for IPv4, the rows the registry marks globally reachable inside 2001::/23 (PCP/TURN/DNS-SD anycast,
 * AMT, AS112-v6, ORCHIDv2, drone DETs) stay blocked with 2001::/23; only Teredo (2001::/32) is carved out,
 * to be judged by the IPv4 client address it carries.
 */
export const IPV6_SPECIAL: readonly (readonly [cidr: string, verdict: Verdict, name: string])[] = [
  ['::/128', 'blocked', 'Unspecified Address (RFC 4291)'],
  ['::1/128', 'blocked', 'Loopback Address (RFC 4291)'],
  ['::/96', 'embedded', 'IPv4-compatible ::a.b.c.d (RFC 4291, deprecated; not in the registry)'],
  ['::ffff:0:0/96', 'embedded', 'IPv4-mapped Address (RFC 4291)'],
  ['::ffff:0:0:0/96', 'embedded', 'IPv4-translated address (RFC 2765; not in the registry)'],
  ['64:ff9b::/96', 'embedded', 'IPv4-IPv6 Translat., NAT64 well-known prefix (RFC 6052)'],
  ['64:ff9b:1::/48', 'blocked', 'IPv4-IPv6 Translat., local-use (RFC 8215)'],
  ['100::/64', 'blocked', 'Discard-Only Address Block (RFC 6666)'],
  ['100:0:0:1::/64', 'blocked', 'Dummy IPv6 Prefix (RFC 9780)'],
  ['2001::/23', 'blocked', 'IETF Protocol Assignments (RFC 2928)'],
  ['2001::/32', 'embedded', 'TEREDO (RFC 4380): the client IPv4, XOR-ed, in the last 32 bits'],
  ['2001:2::/48', 'blocked', 'Benchmarking (RFC 5180)'],
  ['2001:db8::/32', 'blocked', 'Documentation (RFC 3849)'],
  ['2002::/16', 'embedded', '6to4 (RFC 3056): the IPv4 address in bits 16-48'],
  ['3fff::/20', 'blocked', 'Documentation (RFC 9637)'],
  ['5f00::/16', 'blocked', 'Segment Routing (SRv6) SIDs (RFC 9602)'],
  ['fc00::/7', 'blocked', 'Unique-Local (RFC 4193)'],
  ['fd00:ec2::/32', 'blocked', 'AWS instance metadata over IPv6 (inside fc00::/7)'],
  ['fe80::/10', 'blocked', 'Link-Local Unicast (RFC 4291)'],
  ['fec0::/10', 'blocked', 'Site-local (RFC 3879, deprecated; not in the registry)'],
  ['ff00::/8', 'blocked', 'Multicast (RFC 4291; not in the special-purpose registry)'],
];

const v4Rows = IPV4_NOT_GLOBAL.map(([cidr]) => ipaddr.IPv4.parseCIDR(cidr));
// Longest prefix first, so the first match is the most specific row.
const v6Rows = IPV6_SPECIAL.map(([cidr, verdict]) => ({ range: ipaddr.IPv6.parseCIDR(cidr), verdict })).sort(
  (a, b) => b.range[1] - a.range[1],
);

function v4From(hi: number, lo: number): IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/** The IPv4 address an `embedded` IPv6 block carries. */
function embeddedV4(ip: IPv6): IPv4 {
  const p = ip.parts;
  // 6to4: 2002:AABB:CCDD::/48.
  if (p[0] === 0x2002) return v4From(p[1] ?? 0, p[2] ?? 0);
  // Teredo: the client address is the last 32 bits, each bit inverted.
  if (p[0] === 0x2001 && p[1] === 0) return v4From(~(p[6] ?? 0) & 0xffff, ~(p[7] ?? 0) & 0xffff);
  // Mapped, compatible, translated, NAT64 /96: the last 32 bits.
  return v4From(p[6] ?? 0, p[7] ?? 0);
}

/** True when an IPv4 address is in a row that is not globally reachable. */
function v4Blocked(ip: IPv4): boolean {
  for (const row of v4Rows) if (ip.match(row)) return true;
  return false;
}

/**
 * Whether an address (an IP literal, as `net.isIP` accepts it) is outside the globally reachable internet
 * by the IANA registries above. Embedded IPv4 addresses are judged by the IPv4 rows. Not an IP: true.
 */
export function isNonGlobalAddress(address: string): boolean {
  return judge(address, undefined);
}

/** Parsed allow-list entries: addresses and CIDR ranges. */
type AllowList = [IPv4 | IPv6, number][];

function allowedBy(list: AllowList | undefined, ip: IPv4 | IPv6): boolean {
  if (!list) return false;
  const kind = ip.kind();
  for (const range of list) if (range[0].kind() === kind && ip.match(range)) return true;
  return false;
}

/** True when `address` is refused: not global and not in `allow`. */
function judge(address: string, allow: AllowList | undefined): boolean {
  if (isIP(address) === 0) return true;
  const ip = ipaddr.parse(address);
  if (allowedBy(allow, ip)) return false;
  if (ip.kind() === 'ipv4') return v4Blocked(ip as IPv4);
  const v6 = ip as IPv6;
  const row = v6Rows.find((r) => v6.match(r.range));
  if (!row) return false;
  if (row.verdict === 'blocked') return true;
  const v4 = embeddedV4(v6);
  return !allowedBy(allow, v4) && v4Blocked(v4);
}

/** Decides which resolved addresses outbound requests may connect to. */
export interface AddressPolicy {
  /** True when `address` (an IP literal) may be reached. */
  allows(address: string): boolean;
}

/**
 * Builds the address policy of every outbound request: globally reachable addresses always; the rest
 * ({@link IPV4_NOT_GLOBAL}, {@link IPV6_SPECIAL}) only as `allowPrivateNetworks` says (`true`, or a list of
 * addresses and CIDR ranges; an embedded IPv4 address is allowed when it is listed).
 * @throws TypeError for an invalid entry in the list.
 */
export function createAddressPolicy(allowPrivateNetworks: boolean | string[]): AddressPolicy {
  if (allowPrivateNetworks === true) return { allows: () => true };
  const allow: AllowList = [];
  for (const entry of allowPrivateNetworks === false ? [] : allowPrivateNetworks) {
    const [address = '', prefix, ...rest] = entry.split('/');
    if (isIP(address) === 0 || rest.length > 0)
      throw new TypeError(`not an IP address or CIDR range: ${entry}`);
    const ip = ipaddr.parse(address);
    const max = ip.kind() === 'ipv4' ? 32 : 128;
    const bits = prefix === undefined ? max : Number(prefix);
    if (!/^\d+$/.test(prefix ?? String(max)) || bits > max)
      throw new TypeError(`not an IP address or CIDR range: ${entry}`);
    allow.push([ip, bits]);
  }
  const known = new Map<string, boolean>();
  return {
    allows(address) {
      // Parsing allocates; the same few upstream addresses come back on every connection.
      let verdict = known.get(address);
      if (verdict === undefined) {
        verdict = !judge(address, allow);
        if (known.size >= 4096) known.clear();
        known.set(address, verdict);
      }
      return verdict;
    },
  };
}
