import { loadProviders, type Provider } from '@ferry/providers';
import { describe, expect, it } from 'vitest';
import { checkInterpolatedValues, placementProblem, placementsOf, type Placement } from './configCheck.js';

const catalog = loadProviders();
const provider = (name: string): Provider => {
  const found = catalog.get(name);
  if (!found) throw new Error(`no provider ${name}`);
  return found;
};

describe('placementsOf', () => {
  it.each([
    { given: 'zendesk', expression: 'connectionConfig.subdomain', want: ['hostname'] },
    { given: 'harvest', expression: 'connectionConfig.accountId', want: ['header'] },
    { given: 'algolia', expression: 'connectionConfig.applicationId', want: ['hostname', 'header'] },
    { given: 'algolia', expression: 'apiKey', want: ['header'] },
    { given: 'microsoft', expression: 'connectionConfig.tenant', want: ['path'] },
    { given: 'bamboohr-basic', expression: 'connectionConfig.subdomain', want: ['path'] },
    { given: 'datadog', expression: 'connectionConfig.site', want: ['hostname'] },
    { given: 'pipedrive', expression: 'connectionConfig.api_domain', want: ['url'] },
    { given: 'auth0-cc', expression: 'connectionConfig.subdomain', want: ['hostname'] },
  ])('$given: $expression → $want', ({ given, expression, want }) => {
    expect([...(placementsOf(provider(given)).get(expression) ?? [])].sort()).toEqual([...want].sort());
  });

  it('reads parameters that are URLs, and leaves other parameters alone', () => {
    const p = {
      auth_mode: 'OAUTH2_CC',
      token_url: 'https://auth.example.com/token',
      token_params: {
        audience: 'https://${connectionConfig.tenant}.example.com/',
        scope: '${connectionConfig.scope}',
      },
    } as unknown as Provider;
    expect([...(placementsOf(p).get('connectionConfig.tenant') ?? [])]).toEqual(['hostname']);
    expect(placementsOf(p).has('connectionConfig.scope')).toBe(false);
  });

  it('skips values inside a function call such as ${base64(…)} (they are encoded)', () => {
    const p = {
      auth_mode: 'API_KEY',
      proxy: {
        base_url: 'https://api.example.com',
        headers: { authorization: 'Basic ${base64(${apiKey}:)}' },
      },
    } as unknown as Provider;
    expect(placementsOf(p).has('apiKey')).toBe(false);
  });
});

describe('placementProblem', () => {
  const cases: { placement: Placement; given: string; ok: boolean }[] = [
    { placement: 'hostname', given: 'acme-1', ok: true },
    { placement: 'hostname', given: 'eu.api', ok: true },
    ...[':', '/', '@', '?', '#', '\\', '%', ' ', '\t', '\n', '\u0000', '[', ']', '\u007f'].map((c) => ({
      placement: 'hostname' as const,
      given: `a${c}b`,
      ok: false,
    })),
    { placement: 'path', given: 'common', ok: true },
    { placement: 'path', given: 'contoso.onmicrosoft.com', ok: true },
    { placement: 'path', given: '..', ok: false },
    { placement: 'path', given: '.', ok: false },
    { placement: 'path', given: 'a/b', ok: false },
    { placement: 'path', given: '%2e%2e', ok: false },
    { placement: 'url', given: 'https://acme.my.salesforce.com', ok: true },
    { placement: 'url', given: 'javascript:alert(1)', ok: false },
    { placement: 'url', given: 'https://a.example\n.evil', ok: false },
    { placement: 'url', given: 'not a url', ok: false },
    { placement: 'header', given: 'Token abc-123 café', ok: true },
    { placement: 'header', given: 'a\tb', ok: true },
    { placement: 'header', given: 'a\r\nb', ok: false },
    { placement: 'header', given: 'a\nb', ok: false },
    { placement: 'header', given: 'a\u0000b', ok: false },
    { placement: 'header', given: 'a\u007fb', ok: false },
    { placement: 'header', given: '€', ok: false },
    { placement: 'header', given: '日本', ok: false },
  ];
  it.each(cases)('$placement $given → ok: $ok', ({ placement, given, ok }) => {
    expect(placementProblem(placement, given) === undefined).toBe(ok);
  });
});

describe('checkInterpolatedValues', () => {
  it('names the field the value came from', () => {
    const run = () =>
      checkInterpolatedValues(provider('zendesk'), {
        connectionConfig: { value: { subdomain: '127.0.0.1:6379' }, field: 'params' },
      });
    expect(run).toThrow(
      expect.objectContaining({
        code: 'invalid_body',
        errors: [expect.objectContaining({ path: 'params.subdomain' })],
      }),
    );
  });

  it('checks API keys by where the template puts them, and bearer tokens as header values', () => {
    const apiKey = (value: string) => () =>
      checkInterpolatedValues(provider('algolia'), {
        credentials: { value: { type: 'API_KEY', apiKey: value }, field: '' },
      });
    expect(apiKey('k\r\nx')).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ path: 'apiKey' })] }),
    );
    expect(apiKey('k-1')).not.toThrow();
    expect(() =>
      checkInterpolatedValues(provider('github'), {
        credentials: { value: { type: 'OAUTH2', access_token: 'a\nb' }, field: 'credentials' },
      }),
    ).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ path: 'credentials.access_token' })] }),
    );
  });

  it('leaves values the provider does not interpolate, and non-primitive values, alone', () => {
    expect(() =>
      checkInterpolatedValues(provider('zendesk'), {
        connectionConfig: {
          value: { other: 'a\r\n/b', subdomain: { nested: ':' } },
          field: 'connection_config',
        },
      }),
    ).not.toThrow();
  });
});
