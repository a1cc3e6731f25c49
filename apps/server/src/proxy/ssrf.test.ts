import { describe, expect, it } from 'vitest';
import { createAddressPolicy } from './ssrf.js';

describe('createAddressPolicy', () => {
  const given: [string, boolean][] = [
    ['93.184.216.34', true],
    ['2606:4700::1111', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fd12::1', false],
    ['fe80::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['not-an-ip', false],
  ];
  const strict = createAddressPolicy(false);
  for (const [address, want] of given)
    it(`${address} → ${want}`, () => expect(strict.allows(address)).toBe(want));

  it('allows listed addresses and ranges only', () => {
    const some = createAddressPolicy(['127.0.0.1', '10.0.0.0/8']);
    expect([
      some.allows('127.0.0.1'),
      some.allows('127.0.0.2'),
      some.allows('10.9.9.9'),
      some.allows('192.168.0.1'),
    ]).toEqual([true, false, true, false]);
    expect(createAddressPolicy(true).allows('169.254.169.254')).toBe(true);
    expect(() => createAddressPolicy(['nope'])).toThrow(TypeError);
  });
});
