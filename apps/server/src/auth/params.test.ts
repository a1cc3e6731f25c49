import type { Provider } from '@ferry/providers';
import { describe, expect, it } from 'vitest';
import { checkConnectionParams } from './params.js';

const provider = {
  auth_mode: 'OAUTH2',
  connection_config: {
    subdomain: { type: 'string', title: 'Subdomain', pattern: '^[a-z0-9-]+$' },
    instance_url: { type: 'string', title: 'Instance', format: 'uri' },
  },
} as unknown as Provider;

describe('checkConnectionParams', () => {
  it.each([
    { given: { subdomain: 'acme' }, ok: true },
    { given: { instance_url: 'https://gitlab.example.com' }, ok: true },
    { given: { region: 'eu', count: 3, flag: true }, ok: true },
    { given: { subdomain: 'evil.example/x?' }, ok: false },
    { given: { subdomain: 'ACME' }, ok: false },
    { given: { other: 'a@b' }, ok: false },
    { given: { other: 'a b' }, ok: false },
    { given: { other: { nested: 1 } }, ok: false },
    { given: { instance_url: 'javascript:alert(1)' }, ok: false },
  ])('$given → ok: $ok', ({ given, ok }) => {
    const run = (): void => checkConnectionParams(provider, given);
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(expect.objectContaining({ code: 'invalid_body' }));
  });
});
