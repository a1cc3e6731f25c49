import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostProxyRequest } from './host.js';
import { createRuntime } from './runtime.js';
import { compileFixture } from './testing/compile.js';
import { FakeHost, testContext } from './testing/fakeHost.js';
import type { ScriptContext } from './types.js';

// Nango-template-style scripts, bundled the way the CLI bundles them, run unchanged against a fake host.
const runtime = createRuntime({ poolSize: 1 });
const code: Record<string, string> = {};
beforeAll(async () => {
  for (const name of [
    'github-issues',
    'crm-contacts',
    'full-users',
    'create-issue',
    'webhook',
    'on-connect',
  ]) {
    code[name] = await compileFixture(name);
  }
});
afterAll(() => runtime.dispose());

const lastSyncDate = new Date('2026-01-02T03:04:05.000Z');

describe('GitHub issues sync (legacy, link pagination from provider defaults)', () => {
  const issue = (id: number, extra: Record<string, unknown> = {}) => ({
    id,
    number: id,
    title: `Issue ${id}`,
    state: 'open',
    user: { login: 'octo' },
    labels: [{ name: 'bug' }],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-03T00:00:00Z',
    closed_at: id === 3 ? '2026-01-04T00:00:00Z' : null,
    ...extra,
  });
  const pages = [[issue(1), issue(2)], [issue(3), issue(4, { pull_request: {} })], [issue(5)]];
  const route = (request: HostProxyRequest) => {
    const page = Number(/page=(\d+)/.exec(request.endpoint)?.[1] ?? 1);
    const next =
      page < pages.length
        ? `<https://api.github.com/repositories/1/issues?page=${page + 1}&per_page=2>; rel="next", `
        : '';
    return {
      status: 200,
      headers: { link: `${next}<https://api.github.com/repositories/1/issues?page=3>; rel="last"` },
      data: pages[page - 1],
    };
  };
  const context: ScriptContext = {
    ...testContext,
    provider: {
      name: 'github',
      proxy: {
        paginate: { type: 'link', link_rel_in_response_header: 'next', limit_name_in_request: 'per_page' },
      },
    },
    lastSyncDate,
    metadata: { owner: 'acme', repo: 'app' },
  };

  it('saves every issue but pull requests, page by page', async () => {
    const host = new FakeHost(route);
    const result = await runtime.run({ code: code['github-issues']!, kind: 'sync', context, host });
    expect(result.error).toBeUndefined();
    expect([...host.model('GithubIssue').keys()]).toEqual(['1', '2', '3', '5']);
    expect(host.model('GithubIssue').get('3')).toMatchObject({
      author: 'octo',
      labels: ['bug'],
      closedAt: '2026-01-04T00:00:00.000Z',
    });
    expect(host.requests.map((r) => [r.baseUrlOverride, r.endpoint])).toEqual([
      [undefined, '/repos/acme/app/issues'],
      ['https://api.github.com', '/repositories/1/issues?page=2&per_page=2'],
      ['https://api.github.com', '/repositories/1/issues?page=3&per_page=2'],
    ]);
    expect(host.requests[0]!.params).toEqual({
      state: 'all',
      sort: 'updated',
      since: lastSyncDate.toISOString(),
      per_page: 2,
    });
    expect(host.logs.map((l) => l.message)).toEqual(['Saved 4 issues']);
    expect(result.stats.hostCalls).toBe(6);
  });
});

describe('CRM contacts sync (zero-yaml createSync, cursor pagination, incremental)', () => {
  const contact = (n: number) => ({
    id: `c${n}`,
    properties: { email: `c${n}@x.io`, firstname: `F${n}` },
    updatedAt: '2026-02-01T00:00:00Z',
  });
  const route = (request: HostProxyRequest) => {
    const after = request.params?.after;
    if (after === undefined)
      return {
        status: 200,
        headers: {},
        data: { results: [contact(1), contact(2)], paging: { next: { after: 'c2' } } },
      };
    if (after === 'c2')
      return {
        status: 200,
        headers: {},
        data: { results: [contact(3), contact(4)], paging: { next: { after: 'c4' } } },
      };
    return { status: 200, headers: {}, data: { results: [contact(5)] } };
  };

  it('follows the cursor, filters on lastSyncDate and saves a checkpoint', async () => {
    const host = new FakeHost(route);
    const result = await runtime.run({
      code: code['crm-contacts']!,
      kind: 'sync',
      context: { ...testContext, lastSyncDate },
      host,
    });
    expect(result.error).toBeUndefined();
    expect(host.model('Contact').size).toBe(5);
    expect(host.model('Contact').get('c5')).toEqual({
      id: 'c5',
      email: 'c5@x.io',
      firstName: 'F5',
      lastName: null,
      updatedAt: '2026-02-01T00:00:00Z',
    });
    expect(host.requests.map((r) => r.params?.after)).toEqual([undefined, 'c2', 'c4']);
    expect(host.requests[0]!.params).toMatchObject({ limit: 2, updatedAfter: lastSyncDate.toISOString() });
    expect(host.checkpoint).toEqual({ pages: 3, lastRun: lastSyncDate.toISOString() });
  });
});

describe('full users sync (legacy, offset pagination, delete tracking)', () => {
  const users = Array.from({ length: 5 }, (_, i) => ({
    id: i + 1,
    full_name: `User ${i + 1}`,
    email: `U${i + 1}@X.IO`,
    status: i === 0 ? 'active' : 'invited',
  }));
  const route = (request: HostProxyRequest) => {
    const offset = Number(request.params?.offset);
    return {
      status: 200,
      headers: {},
      data: { users: users.slice(offset, offset + Number(request.params?.limit)) },
    };
  };

  it('saves every page and deletes the records it did not see', async () => {
    const host = new FakeHost(route);
    host.model('User').set('99', { id: '99', name: 'Gone', email: 'gone@x.io', active: false });
    const result = await runtime.run({ code: code['full-users']!, kind: 'sync', context: testContext, host });
    expect(result.error).toBeUndefined();
    expect([...host.model('User').keys()].sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(host.model('User').get('1')).toEqual({ id: '1', name: 'User 1', email: 'u1@x.io', active: true });
    expect(host.requests.map((r) => r.params?.offset)).toEqual([0, 3]);
    expect(host.merging.get('User')).toBe('override');
    expect(host.logs.map((l) => l.message)).toEqual(['deleted 1']);
  });
});

describe('create-issue action (zero-yaml createAction, zod input and output)', () => {
  const context: ScriptContext = { ...testContext, metadata: { repo: 'acme/app' } };
  const route = (request: HostProxyRequest) => {
    const data = request.data as { title: string };
    if (data.title === 'dup')
      return { status: 422, headers: {}, data: { errors: [{ field: 'title', code: 'already_exists' }] } };
    return {
      status: 201,
      headers: {},
      data: { id: 77, number: 7, html_url: 'https://github.com/acme/app/issues/7' },
    };
  };

  it('returns the validated output', async () => {
    const host = new FakeHost(route);
    const result = await runtime.run({
      code: code['create-issue']!,
      kind: 'action',
      input: { title: 'Bug' },
      context,
      host,
    });
    expect(result).toMatchObject({
      output: { id: '77', number: 7, url: 'https://github.com/acme/app/issues/7' },
    });
    expect(host.requests[0]).toMatchObject({
      method: 'POST',
      endpoint: '/repos/acme/app/issues',
      data: { title: 'Bug', labels: [] },
      retries: 3,
    });
  });

  it('rejects invalid input as Nango does: an ActionError "Invalid input provided" with the zod issues', async () => {
    const host = new FakeHost(route);
    const result = await runtime.run({
      code: code['create-issue']!,
      kind: 'action',
      input: { title: '' },
      context,
      host,
    });
    expect(result.error).toMatchObject({
      code: 'action_script_runtime_error',
      message: 'Invalid input provided',
      payload: { message: 'Invalid input provided', issues: [{ path: ['title'], code: 'too_small' }] },
    });
    expect(host.logs).toMatchObject([
      { level: 'error', message: expect.stringMatching(/^Invalid input provided: .* at path title$/) },
    ]);
  });

  it('passes an ActionError payload through intact', async () => {
    const result = await runtime.run({
      code: code['create-issue']!,
      kind: 'action',
      input: { title: 'dup' },
      context,
      host: new FakeHost(route),
    });
    expect(result.error).toMatchObject({
      code: 'action_script_runtime_error',
      payload: { message: 'GitHub rejected the issue', errors: [{ field: 'title', code: 'already_exists' }] },
    });
  });
});

describe('webhook handler (legacy onWebhookPayloadReceived, crypto HMAC)', () => {
  const secret = 's3cret';
  const context: ScriptContext = {
    ...testContext,
    environmentVariables: [{ name: 'WEBHOOK_SECRET', value: secret }],
  };
  const sign = async (body: string) =>
    (await import('node:crypto')).createHmac('sha256', secret).update(body).digest('hex');
  const seeded = () => {
    const host = new FakeHost();
    host.model('Ticket').set('t1', { id: 't1', status: 'open', title: 'Printer' });
    return host;
  };

  it('applies a verified update and a verified delete', async () => {
    const host = seeded();
    const updated = JSON.stringify({ type: 'updated', ticket: { id: 't1', status: 'closed' } });
    const r1 = await runtime.run({
      code: code.webhook!,
      kind: 'webhook',
      input: { body: updated, signature: await sign(updated) },
      context,
      host,
    });
    expect(r1).toMatchObject({ output: { handled: 1 } });
    expect(host.model('Ticket').get('t1')).toEqual({ id: 't1', status: 'closed', title: 'Printer' });
    const deleted = JSON.stringify({ type: 'deleted', ticket: { id: 't1' } });
    const r2 = await runtime.run({
      code: code.webhook!,
      kind: 'webhook',
      input: { body: deleted, signature: await sign(deleted) },
      context,
      host,
    });
    expect(r2).toMatchObject({ output: { handled: 1 } });
    expect(host.model('Ticket').has('t1')).toBe(false);
  });

  it('ignores a bad signature, and the same bundle still runs as a sync', async () => {
    const host = seeded();
    const r = await runtime.run({
      code: code.webhook!,
      kind: 'webhook',
      input: { body: '{}', signature: 'forged' },
      context,
      host,
    });
    expect(r).toMatchObject({ output: { handled: 0 } });
    expect(host.logs).toMatchObject([{ level: 'warn', message: 'bad signature' }]);
    const sync = await runtime.run({ code: code.webhook!, kind: 'sync', context, host });
    expect(sync.error).toBeUndefined();
    expect(host.logs.at(-1)?.message).toBe('nothing to poll');
  });
});

describe('post-connection event (zero-yaml createOnEvent)', () => {
  it('reads the connection and token once, and updates metadata', async () => {
    const host = new FakeHost(() => ({ status: 200, headers: {}, data: { account_id: 'acct-9' } }));
    host.connection.connection_config = { subdomain: 'acme' };
    const result = await runtime.run({
      code: code['on-connect']!,
      kind: 'onEvent',
      context: testContext,
      host,
    });
    expect(result.error).toBeUndefined();
    expect(host.metadata).toEqual({ accountId: 'acct-9', hasToken: true, subdomain: 'acme' });
    expect(host.calls.filter((c) => c === 'getConnection')).toHaveLength(1);
  });
});
