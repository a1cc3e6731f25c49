import { expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

describeEachDatabase('authentication and error envelope', (get) => {
  it('serves /health without a key', async () => {
    const res = await fetch(`${get().url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a well-formed request id and replaces a bad one', async () => {
    const good = await fetch(`${get().url}/health`, { headers: { 'x-request-id': 'abc-123' } });
    expect(good.headers.get('x-request-id')).toBe('abc-123');
    const bad = await fetch(`${get().url}/health`, { headers: { 'x-request-id': 'a b\tc' } });
    expect(bad.headers.get('x-request-id')).not.toBe('a b\tc');
  });

  it.each([
    { given: undefined, want: 'missing_auth_header' },
    { given: 'Basic abc', want: 'missing_auth_header' },
    { given: 'Bearer', want: 'missing_auth_header' },
    { given: 'Bearer 00000000-0000-4000-8000-000000000000', want: 'unknown_account' },
    { given: 'Bearer ferry_connect_session_00', want: 'invalid_connect_session_token' },
  ])('answers 401 $want for Authorization: $given', async ({ given, want }) => {
    const res = await fetch(`${get().url}/integrations`, { headers: given ? { authorization: given } : {} });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(want);
  });

  it('accepts the secret key in any case', async () => {
    const res = await fetch(`${get().url}/integrations`, {
      headers: { authorization: `Bearer ${get().secretKey.toUpperCase()}` },
    });
    expect(res.status).toBe(200);
  });

  it('answers unknown routes with 404 in the envelope', async () => {
    const res = await get().api('GET', '/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No route GET /no/such/route.' } });
  });

  it('rejects bad JSON, wrong content and oversize bodies with 4xx', async () => {
    const { api } = get();
    const badJson = await api('POST', '/integrations', '{"provider":');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('invalid_body');
    const big = await api('POST', '/integrations', {
      provider: 'github',
      unique_key: 'x',
      display_name: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const text = await api('POST', '/integrations', 'provider=github', { 'content-type': 'text/plain' });
    expect(text.status).toBe(400);
    const charset = await api('POST', '/integrations', '{}', {
      'content-type': 'application/json; charset=klingon',
    });
    expect(charset.status).toBe(415);
  });

  it('never logs the secret key, tokens or credentials', async () => {
    const { api, logLines, secretKey } = get();
    const from = logLines.length;
    const integration = await api('POST', '/integrations', { provider: 'stripe', unique_key: 'stripe-log' });
    expect(integration.status).toBe(200);
    const created = await api('POST', '/connections', {
      provider_config_key: 'stripe-log',
      connection_id: 'c',
      credentials: { type: 'API_KEY', apiKey: 'sk_live_SECRET_123' },
    });
    expect(created.status).toBe(201);
    // The secret really went through the server: it comes back to the owner of the key.
    const read = await api('GET', '/connections/c?provider_config_key=stripe-log');
    expect(read.status).toBe(200);
    expect(read.body.credentials.apiKey).toBe('sk_live_SECRET_123');
    const bad = await api('POST', '/connections', '{"bad json', {});
    expect(bad.status).toBe(400);
    await get().server.services.activity.flush();
    // Each of those requests was logged, so there was something to leak.
    const logged = logLines
      .slice(from)
      .map((l) => JSON.parse(l) as { msg: string; method?: string; path?: string; status?: number })
      .filter((l) => l.msg === 'request')
      .map((l) => `${l.method} ${l.path} ${l.status}`);
    expect(logged).toEqual([
      'POST /integrations 200',
      'POST /connections 201',
      'GET /connections/c 200',
      'POST /connections 400',
    ]);
    const all = logLines.join('');
    expect(all).not.toContain(secretKey);
    expect(all).not.toContain('sk_live_SECRET_123');
    // Nor does the activity log the API serves.
    const ops = await api('GET', '/logs/operations?limit=100');
    expect(ops.status).toBe(200);
    expect(JSON.stringify(ops.body)).not.toContain('sk_live_SECRET_123');
    expect(JSON.stringify(ops.body)).not.toContain(secretKey);
  });
});
