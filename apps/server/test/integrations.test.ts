import { expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

describeEachDatabase('integrations API', (get) => {
  it('creates, reads, lists, updates and deletes an integration', async () => {
    const { api } = get();
    const created = await api('POST', '/integrations', {
      provider: 'github',
      unique_key: 'github-prod',
      credentials: { type: 'OAUTH2', client_id: 'cid', client_secret: 'csecret', scopes: 'repo,user' },
    });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({
      unique_key: 'github-prod',
      provider: 'github',
      forward_webhooks: true,
    });
    expect(created.body.data.credentials).toBeUndefined();

    const withCreds = await api('GET', '/integrations/github-prod?include=credentials&include=webhook');
    expect(withCreds.body.data.credentials).toEqual({
      type: 'OAUTH2',
      client_id: 'cid',
      client_secret: 'csecret',
      scopes: 'repo,user',
      webhook_secret: null,
    });
    expect(withCreds.body.data.webhook_url).toBe('http://localhost:3003/webhook/dev/github-prod');

    const list = await api('GET', '/integrations');
    expect(list.body.data.map((i: { unique_key: string }) => i.unique_key)).toEqual(['github-prod']);

    const patched = await api('PATCH', '/integrations/github-prod', {
      display_name: 'GitHub (prod)',
      unique_key: 'gh',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ unique_key: 'gh', display_name: 'GitHub (prod)' });
    expect((await api('GET', '/integrations/github-prod')).status).toBe(404);

    const deleted = await api('DELETE', '/integrations/gh');
    expect(deleted.body).toEqual({ success: true });
    expect((await api('GET', '/integrations/gh')).body.error.code).toBe('not_found');
  });

  it('rejects an unknown provider, a duplicate key, bad credentials and an empty patch', async () => {
    const { api } = get();
    const unknown = await api('POST', '/integrations', { provider: 'no-such-provider', unique_key: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('invalid_body');

    expect((await api('POST', '/integrations', { provider: 'github', unique_key: 'dup' })).status).toBe(200);
    const dup = await api('POST', '/integrations', { provider: 'github', unique_key: 'dup' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('duplicate_integration');

    const wrongType = await api('POST', '/integrations', {
      provider: 'github',
      unique_key: 'gh-app',
      credentials: { type: 'APP', app_id: '1', app_link: 'x', private_key: 'k' },
    });
    expect(wrongType.status).toBe(400);

    const badKey = await api('POST', '/integrations', { provider: 'github', unique_key: 'bad/key' });
    expect(badKey.body.error).toMatchObject({ code: 'invalid_body' });
    expect(badKey.body.error.errors[0].path).toBe('unique_key');

    const empty = await api('PATCH', '/integrations/dup', {});
    expect(empty.status).toBe(400);
  });

  it('lists and finds providers', async () => {
    const { api } = get();
    const all = await api('GET', '/providers');
    expect(all.body.data.length).toBeGreaterThanOrEqual(30);
    const search = await api('GET', '/providers?search=google');
    expect(
      search.body.data.every((p: { name: string; display_name: string }) =>
        `${p.name} ${p.display_name}`.toLowerCase().includes('google'),
      ),
    ).toBe(true);
    const one = await api('GET', '/providers/github');
    expect(one.body.data).toMatchObject({ name: 'github', auth_mode: 'OAUTH2' });
    expect((await api('GET', '/providers/nope')).status).toBe(404);
  });
});
