import { describe, expect, test } from 'vitest';
import { loadProviders, placeholdersOf, providerSchema, tryInterpolate } from './index.js';

const catalog = loadProviders();
const all = catalog.list();

/** Keys existing integration configs use; renaming one would break them. */
const wellKnown = [
  'github',
  'github-app',
  'gitlab',
  'google',
  'google-calendar',
  'google-drive',
  'gmail',
  'slack',
  'hubspot',
  'salesforce',
  'notion',
  'linear',
  'jira',
  'confluence',
  'zendesk',
  'intercom',
  'asana',
  'airtable',
  'microsoft',
  'outlook',
  'microsoft-teams',
  'dropbox',
  'box',
  'shopify',
  'zoom',
  'discord',
  'figma',
  'stripe',
  'sendgrid',
  'freshdesk',
  'jira-basic',
  'twitter',
  'sharepoint-online-oauth2-cc',
  'unauthenticated',
];

describe('the built-in catalog', () => {
  test('holds the well-known providers under their usual keys', () => {
    expect(wellKnown.filter((name) => !catalog.has(name))).toEqual([]);
  });

  test('covers every auth mode that has a public provider', () => {
    const modes = new Set(all.map((provider) => provider.auth_mode));
    expect([...modes].sort()).toEqual(
      expect.arrayContaining(['API_KEY', 'APP', 'BASIC', 'NONE', 'OAUTH1', 'OAUTH2', 'OAUTH2_CC']),
    );
  });

  test.each(all.map((provider) => [provider.name, provider] as const))(
    '%s passes the schema after alias resolution',
    (_name, provider) => {
      const { name: _, ...entry } = provider;
      expect(providerSchema.safeParse(entry).error?.issues ?? []).toEqual([]);
    },
  );

  test.each(all.filter((p) => p.auth_mode === 'OAUTH2').map((p) => [p.name, p] as const))(
    '%s (OAUTH2) has authorization and token URLs',
    (_name, provider) => {
      expect(provider.authorization_url).toMatch(/^https:\/\//);
      expect(provider.token_url).toBeDefined();
    },
  );

  test.each(
    all.filter((p) => p.auth_mode === 'API_KEY' || p.auth_mode === 'BASIC').map((p) => [p.name, p] as const),
  )('%s (API_KEY/BASIC) can verify credentials', (_name, provider) => {
    expect(provider.proxy?.verification?.endpoints.length).toBeGreaterThan(0);
  });

  test.each(all.filter((p) => p.auth_mode === 'API_KEY').map((p) => [p.name, p] as const))(
    '%s (API_KEY) sends the key somewhere',
    (_name, provider) => {
      const templates = [
        ...Object.values(provider.proxy?.headers ?? {}),
        ...Object.values(provider.proxy?.query ?? {}),
      ].join(' ');
      expect(templates).toMatch(/\$\{(apiKey|credentials\.)/);
    },
  );

  test.each(all.filter((p) => p.proxy).map((p) => [p.name, p] as const))(
    '%s has an absolute base URL once its placeholders are filled',
    (_name, provider) => {
      const connectionConfig: Record<string, string> = {};
      for (const placeholder of placeholdersOf(provider.proxy!.base_url)) {
        if (placeholder.startsWith('connectionConfig.'))
          connectionConfig[placeholder.slice('connectionConfig.'.length)] = 'https://x';
      }
      const url = tryInterpolate(provider.proxy!.base_url.replaceAll('https://${', '${'), {
        connectionConfig,
      });
      expect(url).toMatch(/^https:\/\/[^\s/]+/);
    },
  );

  test('resolves aliases: outlook inherits microsoft and keeps its own identity', () => {
    const outlook = catalog.get('outlook');
    expect(outlook).toMatchObject({ alias: 'microsoft', display_name: 'Outlook', auth_mode: 'OAUTH2' });
    expect(outlook?.token_url).toBe(catalog.get('microsoft')?.token_url);
  });

  test('lets an alias delete an inherited field with null and tighten a form field', () => {
    expect(catalog.get('microsoft')?.proxy?.paginate).toBeDefined();
    expect(catalog.get('microsoft-power-bi')?.proxy).toMatchObject({ base_url: 'https://api.powerbi.com' });
    expect(catalog.get('microsoft-power-bi')?.proxy?.paginate).toBeUndefined();
    const tenant = catalog.get('microsoft-tenant-specific')?.connection_config?.['tenant'];
    expect(tenant).toMatchObject({ optional: false, title: 'Tenant' });
    expect(tenant).not.toHaveProperty('default_value');
  });

  test('is frozen and returns the cached instance', () => {
    expect(loadProviders()).toBe(catalog);
    expect(Object.isFrozen(catalog.get('github')?.proxy)).toBe(true);
    expect(Object.isFrozen(all)).toBe(true);
    expect(() => {
      (catalog.get('github') as { display_name: string }).display_name = 'x';
    }).toThrow(TypeError);
  });

  test('behaves as a read-only map', () => {
    expect(catalog.size).toBe(all.length);
    expect([...catalog.keys()]).toEqual(all.map((provider) => provider.name));
    expect(catalog.get('nope')).toBeUndefined();
  });
});
