import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, type TestServer } from './harness.js';

/** `{"a":{"a":…}}` nested `depth` levels (the outer object counts as one), built as text. */
function nested(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

const oauth = { type: 'OAUTH2', access_token: 'tok' };

describeEachDatabase('bad input: one limit each, on both databases', (get) => {
  let api: TestServer['api'];
  beforeAll(async () => {
    api = get().api;
    for (const [provider, key] of [
      ['harvest', 'bi-harvest'],
      ['zendesk', 'bi-zendesk'],
      ['algolia', 'bi-algolia'],
      ['microsoft', 'bi-microsoft'],
    ]) {
      expect((await api('POST', '/integrations', { provider, unique_key: key })).status).toBe(200);
    }
    const created = await api('POST', '/connections', {
      provider_config_key: 'bi-harvest',
      connection_id: 'bi-conn',
      credentials: oauth,
    });
    expect(created.status).toBe(201);
  });

  const expectError = (res: { status: number; body: any }, status: number, code: string, path?: string) => {
    const label = JSON.stringify(res.body).slice(0, 300);
    expect(res.status, label).toBe(status);
    expect(res.body?.error?.code, label).toBe(code);
    expect(typeof res.body?.error?.message, label).toBe('string');
    if (path !== undefined) expect(res.body.error.errors?.[0]?.path, label).toBe(path);
  };

  it('refuses a JSON body nested deeper than 64 levels with invalid_body, and takes 64', async () => {
    const body = (depth: number) =>
      `{"connection_id":"bi-conn","provider_config_key":"bi-harvest","metadata":${nested(depth - 1)}}`;
    for (const depth of [65, 5_000, 100_000]) {
      expectError(await api('POST', '/connections/metadata', body(depth)), 400, 'invalid_body');
      expectError(
        await api('POST', '/connections', `{"provider_config_key":"bi-harvest","metadata":${nested(depth)}}`),
        400,
        'invalid_body',
      );
    }
    expect((await api('POST', '/connections/metadata', body(64))).status).toBe(200);
    const read = await api('GET', '/connections/bi-conn?provider_config_key=bi-harvest');
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body.metadata)).toBe(nested(63));
  });

  it('refuses more than 100 values for one query parameter with invalid_query_params', async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `tags[k${i}]=v`).join('&');
    expectError(await api('GET', `/connections?${tags(101)}`), 400, 'invalid_query_params', 'tags');
    expectError(await api('GET', `/connections?${tags(999)}`), 400, 'invalid_query_params', 'tags');
    const ok = await api('GET', `/connections?${tags(100)}`);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.connections).toEqual([]);
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`).join(',');
    expectError(
      await api('GET', `/connections?integrationId=${keys(101)}`),
      400,
      'invalid_query_params',
      'integrationId',
    );
    expect((await api('GET', `/connections?integrationId=${keys(100)}`)).status).toBe(200);
    const include = Array.from({ length: 101 }, () => 'include=webhook').join('&');
    expectError(await api('GET', `/integrations/bi-harvest?${include}`), 400, 'invalid_query_params');
  });

  it('refuses NUL (U+0000) in body strings and keys, query values and path parameters, the same on both databases', async () => {
    const nul = 'a\u0000b';
    const bodies: [string, string, unknown, string][] = [
      [
        'POST',
        '/connections',
        { provider_config_key: 'bi-harvest', credentials: oauth, metadata: { note: nul } },
        'metadata.note',
      ],
      [
        'POST',
        '/connections',
        { provider_config_key: 'bi-harvest', credentials: oauth, metadata: { [nul]: 1 } },
        `metadata.${nul}`,
      ],
      [
        'POST',
        '/connections',
        { provider_config_key: 'bi-harvest', credentials: oauth, tags: { plan: nul } },
        'tags.plan',
      ],
      [
        'POST',
        '/connections',
        { provider_config_key: 'bi-harvest', credentials: { ...oauth, raw: { x: [nul] } } },
        'credentials.raw.x.0',
      ],
      [
        'POST',
        '/connections',
        { provider_config_key: 'bi-harvest', credentials: oauth, end_user: { id: 'u', display_name: nul } },
        'end_user.display_name',
      ],
      [
        'POST',
        '/connections/metadata',
        { connection_id: 'bi-conn', provider_config_key: 'bi-harvest', metadata: { a: nul } },
        'metadata.a',
      ],
      ['PATCH', '/connections/bi-conn?provider_config_key=bi-harvest', { tags: { a: nul } }, 'tags.a'],
      [
        'POST',
        '/integrations',
        { provider: 'github', unique_key: 'bi-gh', display_name: nul },
        'display_name',
      ],
      ['PATCH', '/integrations/bi-harvest', { display_name: nul }, 'display_name'],
      ['POST', '/connect/sessions', { end_user: { id: nul } }, 'end_user.id'],
      ['POST', '/connect/sessions', { end_user: { id: 'u' }, tags: { a: nul } }, 'tags.a'],
    ];
    for (const [method, path, body, field] of bodies) {
      expectError(await api(method, path, body), 400, 'invalid_body', field);
    }
    // The escape as JSON text, which PostgreSQL's jsonb refuses too.
    expectError(
      await api(
        'POST',
        '/connections/metadata',
        '{"connection_id":"bi-conn","provider_config_key":"bi-harvest","metadata":{"a":"\\u0000"}}',
      ),
      400,
      'invalid_body',
      'metadata.a',
    );
    // A lone UTF-16 surrogate, which PostgreSQL's jsonb refuses as well.
    expectError(
      await api(
        'POST',
        '/connections/metadata',
        '{"connection_id":"bi-conn","provider_config_key":"bi-harvest","metadata":{"a":"\\ud800"}}',
      ),
      400,
      'invalid_body',
      'metadata.a',
    );
    expectError(
      await api('POST', '/connect/sessions', '{"end_user":{"id":"u"},"tags":{"\\udc00":"x"}}'),
      400,
      'invalid_body',
      'tags.\udc00',
    );
    for (const query of ['search=a%00b', 'endUserId=%00', 'tags[a%00]=1', 'connectionId=x%00']) {
      expectError(await api('GET', `/connections?${query}`), 400, 'invalid_query_params');
    }
    expectError(await api('GET', '/logs/operations?connection_id=%00'), 400, 'invalid_query_params');
    // The fast path (a known secret key) and express answer alike.
    expectError(
      await api('GET', '/connections/a%00b?provider_config_key=bi-harvest'),
      400,
      'invalid_uri_params',
    );
    expectError(
      await api('GET', '/connections/bi-conn?provider_config_key=bi%00x'),
      400,
      'invalid_query_params',
    );
    expectError(
      await api('DELETE', '/connections/a%00b?provider_config_key=bi-harvest'),
      400,
      'invalid_uri_params',
    );
    expectError(await api('GET', '/providers/a%00b'), 400, 'invalid_uri_params');
    // Nothing was stored.
    const list = await api('GET', '/connections');
    expect(list.body.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual(['bi-conn']);
  });

  it('refuses connection-config values and tokens that do not fit where the provider interpolates them', async () => {
    const cases: { key: string; config?: Record<string, unknown>; credentials?: unknown; field: string }[] = [
      // harvest: headers { harvest-account-id: '${connectionConfig.accountId}' }
      {
        key: 'bi-harvest',
        config: { accountId: '1\r\nx-injected: 1' },
        field: 'connection_config.accountId',
      },
      { key: 'bi-harvest', config: { accountId: '1\n' }, field: 'connection_config.accountId' },
      { key: 'bi-harvest', config: { accountId: '日本' }, field: 'connection_config.accountId' },
      { key: 'bi-harvest', config: { accountId: 'a\u007fb' }, field: 'connection_config.accountId' },
      // zendesk: https://${connectionConfig.subdomain}.zendesk.com
      { key: 'bi-zendesk', config: { subdomain: '127.0.0.1:6379' }, field: 'connection_config.subdomain' },
      { key: 'bi-zendesk', config: { subdomain: 'evil.example/x?' }, field: 'connection_config.subdomain' },
      { key: 'bi-zendesk', config: { subdomain: 'user@evil' }, field: 'connection_config.subdomain' },
      { key: 'bi-zendesk', config: { subdomain: 'a b' }, field: 'connection_config.subdomain' },
      { key: 'bi-zendesk', config: { subdomain: 'evil#' }, field: 'connection_config.subdomain' },
      { key: 'bi-zendesk', config: { subdomain: 'evil\\x' }, field: 'connection_config.subdomain' },
      // algolia: hostname and header
      { key: 'bi-algolia', config: { applicationId: 'x:1' }, field: 'connection_config.applicationId' },
      // microsoft: https://login.microsoftonline.com/${connectionConfig.tenant}/oauth2/…
      { key: 'bi-microsoft', config: { tenant: '../evil' }, field: 'connection_config.tenant' },
      { key: 'bi-microsoft', config: { tenant: '..' }, field: 'connection_config.tenant' },
      // a token sent as "Authorization: Bearer …"
      {
        key: 'bi-harvest',
        credentials: { type: 'OAUTH2', access_token: 'tok\r\nx: 1' },
        field: 'credentials.access_token',
      },
      {
        key: 'bi-harvest',
        credentials: { type: 'OAUTH2', access_token: 'jeton-café-€' },
        field: 'credentials.access_token',
      },
    ];
    const apiKey = { type: 'API_KEY', apiKey: 'k' };
    for (const c of cases) {
      const res = await api('POST', '/connections', {
        provider_config_key: c.key,
        credentials: c.credentials ?? (c.key === 'bi-algolia' ? apiKey : oauth),
        ...(c.config ? { connection_config: c.config } : {}),
      });
      expectError(res, 400, 'invalid_body', c.field);
      expect(res.body.error.message).toContain(c.field);
    }
    const good: [string, Record<string, unknown>][] = [
      ['bi-harvest', { accountId: 'café 42', unrelated: 'a\r\nb', nested: { x: '日本' } }],
      ['bi-zendesk', { subdomain: 'acme-1' }],
      ['bi-algolia', { applicationId: 'ABC123' }],
      ['bi-microsoft', { tenant: 'contoso.onmicrosoft.com' }],
    ];
    for (const [key, config] of good) {
      const res = await api('POST', '/connections', {
        provider_config_key: key,
        credentials: key === 'bi-algolia' ? apiKey : oauth,
        connection_config: config,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    // An integration setting that becomes a URL path segment: a GitHub App's public link.
    const app = (link: string) =>
      api('POST', '/integrations', {
        provider: 'github-app',
        unique_key: `bi-app-${link.length}`,
        credentials: { type: 'APP', app_id: '1', app_link: link, private_key: 'k' },
      });
    expectError(await app('https://github.com/apps/x?y#'), 400, 'invalid_body', 'credentials.app_link');
    expectError(await app('https://github.com/apps/..'), 400, 'invalid_body', 'credentials.app_link');
    expect((await app('https://github.com/apps/ferry-test/')).status).toBe(200);
    // The same check for a connect session's defaults.
    expectError(
      await api('POST', '/connect/sessions', {
        end_user: { id: 'u' },
        integrations_config_defaults: { 'bi-zendesk': { connection_config: { subdomain: '10.0.0.1:22' } } },
      }),
      400,
      'invalid_body',
      'integrations_config_defaults.bi-zendesk.connection_config.subdomain',
    );
    expect(
      (
        await api('POST', '/connect/sessions', {
          end_user: { id: 'u' },
          integrations_config_defaults: { 'bi-zendesk': { connection_config: { subdomain: 'acme' } } },
        })
      ).status,
    ).toBe(201);
  });
});
