import { describe, expect, it } from 'vitest';
import { createAddressPolicy, isNonGlobalAddress } from './addressPolicy.js';

describe('createAddressPolicy (default: only globally reachable addresses)', () => {
  // [given address, want allowed, why]
  const given: [string, boolean, string][] = [
    ['93.184.216.34', true, 'public IPv4'],
    ['8.8.8.8', true, 'public IPv4'],
    ['2606:4700::1111', true, 'public IPv6'],
    ['2a00:1450:4001:82b::200e', true, 'public IPv6'],
    ['0.0.0.0', false, '0.0.0.0/8 this host'],
    ['0.1.2.3', false, '0.0.0.0/8 this network'],
    ['10.1.2.3', false, '10/8'],
    ['100.64.0.1', false, '100.64/10 CGN'],
    ['100.127.255.255', false, '100.64/10 CGN, last'],
    ['100.128.0.1', true, 'just past 100.64/10'],
    ['127.0.0.1', false, '127/8 loopback'],
    ['127.255.255.254', false, '127/8 loopback'],
    ['169.254.169.254', false, '169.254/16 metadata'],
    ['172.16.0.1', false, '172.16/12'],
    ['172.31.255.255', false, '172.16/12, last'],
    ['172.32.0.1', true, 'just past 172.16/12'],
    ['192.0.0.1', false, '192.0.0.0/24 IETF assignments'],
    ['192.0.0.9', false, '192.0.0.0/24 (PCP anycast stays blocked)'],
    ['192.0.0.170', false, '192.0.0.0/24 NAT64 discovery'],
    ['192.0.2.10', false, '192.0.2.0/24 TEST-NET-1'],
    ['192.88.99.2', false, '6a44 relay anycast'],
    ['192.88.99.1', true, 'deprecated 6to4 relay block, not flagged'],
    ['192.168.1.1', false, '192.168/16'],
    ['198.18.0.1', false, '198.18/15 benchmarking'],
    ['198.19.255.255', false, '198.18/15, last'],
    ['198.20.0.1', true, 'just past 198.18/15'],
    ['198.51.100.7', false, '198.51.100.0/24 TEST-NET-2'],
    ['203.0.113.9', false, '203.0.113.0/24 TEST-NET-3'],
    ['224.0.0.1', false, '224/4 multicast'],
    ['239.255.255.250', false, '224/4 multicast (SSDP)'],
    ['240.0.0.1', false, '240/4 reserved'],
    ['255.255.255.255', false, 'limited broadcast'],
    ['::', false, '::/128 unspecified'],
    ['::1', false, '::1/128 loopback'],
    ['fc00::1', false, 'fc00::/7 unique local'],
    ['fd12:3456::1', false, 'fc00::/7 unique local'],
    ['fd00:ec2::254', false, 'AWS metadata over IPv6'],
    ['fe80::1', false, 'fe80::/10 link-local'],
    ['fe80::1%eth0', false, 'fe80::/10 link-local with a zone'],
    ['febf::1', false, 'fe80::/10, last'],
    ['fec0::1', false, 'fec0::/10 deprecated site-local'],
    ['ff02::1', false, 'ff00::/8 multicast'],
    ['2001:db8::1', false, '2001:db8::/32 documentation'],
    ['3fff::1', false, '3fff::/20 documentation'],
    ['100::1', false, '100::/64 discard-only'],
    ['100:0:0:1::1', false, '100:0:0:1::/64 dummy prefix'],
    ['100:0:0:2::1', true, 'outside both 100:: rows'],
    ['2001:2::1', false, '2001:2::/48 benchmarking'],
    ['2001:1::1', false, '2001::/23 (PCP anycast stays blocked)'],
    ['2001:3::1', false, '2001::/23 (AMT stays blocked)'],
    ['2001:20::1', false, '2001::/23 (ORCHIDv2 stays blocked)'],
    ['2001:200::1', true, 'just past 2001::/23'],
    ['5f00::1', false, '5f00::/16 SRv6 SIDs'],
    ['64:ff9b:1::1', false, '64:ff9b:1::/48 local-use translation'],
    // IPv4-mapped ::ffff:a.b.c.d: judged by the IPv4 address.
    ['::ffff:10.0.0.1', false, 'mapped private'],
    ['::ffff:127.0.0.1', false, 'mapped loopback'],
    ['::ffff:7f00:1', false, 'mapped loopback, hex form'],
    ['::ffff:169.254.169.254', false, 'mapped metadata'],
    ['::ffff:8.8.8.8', true, 'mapped public'],
    // IPv4-compatible ::a.b.c.d (deprecated).
    ['::127.0.0.1', false, 'compatible loopback'],
    ['::10.0.0.1', false, 'compatible private'],
    ['::8.8.8.8', true, 'compatible public'],
    // IPv4-translated ::ffff:0:a.b.c.d.
    ['::ffff:0:a00:1', false, 'translated private'],
    // NAT64 64:ff9b::/96.
    ['64:ff9b::7f00:1', false, 'NAT64 of 127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', false, 'NAT64 of 169.254.169.254'],
    ['64:ff9b::10.1.2.3', false, 'NAT64 of 10.1.2.3, dotted'],
    ['64:ff9b::808:808', true, 'NAT64 of 8.8.8.8'],
    // 6to4 2002:AABB:CCDD::/48.
    ['2002:7f00:1::1', false, '6to4 of 127.0.0.1'],
    ['2002:c0a8:101::1', false, '6to4 of 192.168.1.1'],
    ['2002:a9fe:a9fe::', false, '6to4 of 169.254.169.254'],
    ['2002:808:808::1', true, '6to4 of 8.8.8.8'],
    // Teredo 2001:0:SSSS:SSSS:flags:port:~client: the client address inverted in the last 32 bits.
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', false, 'Teredo, client 127.0.0.1'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', false, 'Teredo, client 10.0.0.1'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false, 'Teredo (RFC 4380 example), client 192.0.2.45'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', true, 'Teredo, client 8.8.8.8'],
    ['not-an-ip', false, 'not an IP literal'],
    ['', false, 'empty'],
  ];
  const strict = createAddressPolicy(false);
  for (const [address, want, why] of given)
    it(`${address || '(empty)'} (${why}) → ${want ? 'allowed' : 'refused'}`, () =>
      expect(strict.allows(address)).toBe(want));

  it('answers the same from its cache', () => {
    for (const [address, want] of given) expect(strict.allows(address)).toBe(want);
    expect(isNonGlobalAddress('10.0.0.1')).toBe(true);
    expect(isNonGlobalAddress('1.1.1.1')).toBe(false);
  });
});

describe('createAddressPolicy with FERRY_PROXY_ALLOW_PRIVATE_NETWORKS', () => {
  it('allows listed addresses and ranges only, also when they are embedded', () => {
    const some = createAddressPolicy(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    const given: [string, boolean][] = [
      ['127.0.0.1', true],
      ['127.0.0.2', false],
      ['10.9.9.9', true],
      ['192.168.0.1', false],
      ['::ffff:127.0.0.1', true],
      ['64:ff9b::a09:909', true],
      ['2002:7f00:2::', false],
      ['fd12::1', true],
      ['fe80::1', false],
      ['8.8.8.8', true],
    ];
    expect(given.map(([a]) => [a, some.allows(a)])).toEqual(given);
  });

  it('allows everything with true', () => {
    expect(createAddressPolicy(true).allows('169.254.169.254')).toBe(true);
  });

  it('rejects a list entry that is not an address or CIDR range', () => {
    for (const entry of ['nope', '10.0.0.0/33', '10.0.0.0/x', '::1/129', '127.1'])
      expect(() => createAddressPolicy([entry]), entry).toThrow(TypeError);
  });
});
