import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadProviders, ProviderCatalogError } from './index.js';

const catalog = loadProviders();

describe('overrides', () => {
  test('merge over a built-in provider field by field', () => {
    const merged = loadProviders({
      overrides: {
        github: {
          authorization_url: 'http://127.0.0.1:4000/authorize',
          proxy: { base_url: 'http://127.0.0.1:4000', retry: null },
        },
      },
    });
    const github = merged.get('github');
    expect(github?.authorization_url).toBe('http://127.0.0.1:4000/authorize');
    expect(github?.token_url).toBe(catalog.get('github')?.token_url);
    expect(github?.proxy?.base_url).toBe('http://127.0.0.1:4000');
    expect(github?.proxy?.retry).toBeUndefined();
    expect(github?.proxy?.paginate).toEqual(catalog.get('github')?.proxy?.paginate);
    expect(catalog.get('github')?.proxy?.base_url).toBe('https://api.github.com');
  });

  test('reach aliases of the overridden provider', () => {
    const merged = loadProviders({ overrides: { microsoft: { token_url: 'http://127.0.0.1:9/token' } } });
    expect(merged.get('outlook')?.token_url).toBe('http://127.0.0.1:9/token');
  });

  test('add new providers and remove others with null', () => {
    const merged = loadProviders({
      overrides: {
        'internal-api': {
          display_name: 'Internal API',
          docs: 'https://wiki.example.com/api',
          auth_mode: 'API_KEY',
          proxy: {
            base_url: 'http://127.0.0.1:5000',
            headers: { 'x-api-key': '${apiKey}' },
            verification: { method: 'GET', endpoints: ['/me'] },
          },
        },
        twitter: null,
      },
    });
    expect(merged.get('internal-api')?.proxy?.headers).toEqual({ 'x-api-key': '${apiKey}' });
    expect(merged.has('twitter')).toBe(false);
    expect(merged.size).toBe(catalog.size);
  });

  test('are read from a YAML file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-providers-')), 'providers.yaml');
    writeFileSync(file, 'slack:\n  proxy:\n    base_url: http://127.0.0.1:7000/api\n');
    expect(loadProviders({ overridesFile: file }).get('slack')?.proxy?.base_url).toBe(
      'http://127.0.0.1:7000/api',
    );
  });
});

describe('readable errors', () => {
  const cases: { name: string; given: unknown; code: string; message: RegExp }[] = [
    {
      name: 'a typo in a field name',
      given: { github: { proxy: { retyr: {} } } },
      code: 'invalid_provider',
      message: /github\.proxy: .*retyr/,
    },
    {
      name: 'a wrong auth mode',
      given: { github: { auth_mode: 'OAUTH3' } },
      code: 'invalid_provider',
      message: /github\.auth_mode/,
    },
    {
      name: 'a bad retry status',
      given: { github: { proxy: { retry: { error_code: ['600'] } } } },
      code: 'invalid_provider',
      message: /github\.proxy\.retry\.error_code\.0/,
    },
    {
      name: 'an unknown pagination type',
      given: { slack: { proxy: { paginate: { type: 'page' } } } },
      code: 'invalid_provider',
      message: /slack\.proxy\.paginate/,
    },
    {
      name: 'OAUTH2 without a token URL',
      given: {
        acme: {
          display_name: 'Acme',
          docs: 'https://acme.example',
          auth_mode: 'OAUTH2',
          authorization_url: 'https://acme.example/a',
        },
      },
      code: 'invalid_provider',
      message: /acme\.token_url: required when auth_mode is OAUTH2/,
    },
    {
      name: 'a missing display name',
      given: { acme: { docs: 'https://acme.example', auth_mode: 'NONE' } },
      code: 'invalid_provider',
      message: /acme\.display_name/,
    },
    {
      name: 'an unknown alias',
      given: { acme: { alias: 'nope', display_name: 'Acme' } },
      code: 'invalid_alias',
      message: /acme\.alias: unknown provider "nope"/,
    },
    {
      name: 'an alias cycle',
      given: { a: { alias: 'b' }, b: { alias: 'a' } },
      code: 'invalid_alias',
      message: /circular alias: a -> b -> a/,
    },
    {
      name: 'a bad provider name',
      given: { 'Bad Name': { alias: 'github' } },
      code: 'invalid_provider',
      message: /Bad Name: names use/,
    },
    {
      name: 'an invalid pattern',
      given: { stripe: { credentials: { apiKey: { title: 'Key', pattern: '(' } } } },
      code: 'invalid_provider',
      message: /stripe\.credentials\.apiKey\.pattern: not a valid regular expression/,
    },
    {
      name: 'overrides that are not a map',
      given: ['github'],
      code: 'invalid_providers_file',
      message: /must be a map/,
    },
  ];
  test.each(cases)('$name', ({ given, code, message }) => {
    const error = captureError(() => loadProviders({ overrides: given }));
    expect(error).toBeInstanceOf(ProviderCatalogError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  });

  test('lists every issue, not only the first', () => {
    const error = captureError(() =>
      loadProviders({ overrides: { github: { auth_mode: 'X' }, slack: { docs: 'not a url' } } }),
    ) as ProviderCatalogError;
    expect(error.issues.map((issue) => `${issue.provider}.${issue.path}`)).toEqual([
      'github.auth_mode',
      'slack.docs',
    ]);
  });

  test('throw TypeError on misuse rather than ignoring it', () => {
    expect(() => loadProviders('providers.yaml' as never)).toThrow(TypeError);
    expect(() => loadProviders({ overridesFile: 42 as never })).toThrow(TypeError);
  });

  test('report a file that does not exist or is not YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-providers-'));
    const missing = captureError(() => loadProviders({ overridesFile: join(dir, 'missing.yaml') }));
    expect(missing).toMatchObject({
      code: 'invalid_providers_file',
      message: expect.stringMatching(/cannot be read \(ENOENT\)/),
    });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'github:\n  proxy: [unclosed\n');
    expect(captureError(() => loadProviders({ overridesFile: bad }))).toMatchObject({
      code: 'invalid_providers_file',
    });
  });
});

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
