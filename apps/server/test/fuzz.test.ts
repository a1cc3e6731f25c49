import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEachDatabase } from './harness.js';

/** Every route, with a template path that the fuzzer fills with good or bad parameters. */
const routes: { method: string; path: string; body: boolean; query?: string }[] = [
  { method: 'GET', path: '/providers', body: false, query: 'search' },
  { method: 'GET', path: '/providers/{provider}', body: false },
  { method: 'GET', path: '/integrations', body: false },
  { method: 'POST', path: '/integrations', body: true },
  { method: 'GET', path: '/integrations/{key}', body: false, query: 'include' },
  { method: 'PATCH', path: '/integrations/{key}', body: true },
  { method: 'DELETE', path: '/integrations/{key}', body: false },
  { method: 'POST', path: '/connections', body: true },
  { method: 'GET', path: '/connections', body: false, query: 'limit' },
  { method: 'GET', path: '/connections/{conn}', body: false, query: 'provider_config_key' },
  { method: 'PATCH', path: '/connections/{conn}', body: true, query: 'provider_config_key' },
  { method: 'DELETE', path: '/connections/{conn}', body: false, query: 'provider_config_key' },
  { method: 'POST', path: '/connections/metadata', body: true },
  { method: 'PATCH', path: '/connections/metadata', body: true },
  { method: 'POST', path: '/connect/sessions', body: true },
  { method: 'POST', path: '/connect/sessions/reconnect', body: true },
  { method: 'GET', path: '/connect/session', body: false },
  { method: 'DELETE', path: '/connect/session', body: false },
  { method: 'GET', path: '/logs/operations', body: false, query: 'limit' },
  { method: 'GET', path: '/logs/operations/{op}', body: false },
  { method: 'GET', path: '/logs/operations/{op}/messages', body: false, query: 'cursor' },
];

const badSegments = [
  '%E0%A4%A',
  '..%2F..%2Fetc',
  'a'.repeat(5000),
  '%00',
  "'; drop table connections; --",
  '%F0%9F%98%80',
  '%20',
  '~!@$',
];
const badQueries = [
  'limit=-1',
  'limit=1e309',
  'limit[]=1&limit[]=2',
  'provider_config_key[a]=b',
  'provider_config_key=' + 'k'.repeat(10_000),
  'cursor=%%%',
  'include=everything',
  'search[$ne]=1',
  'from=yesterday',
  'page=NaN',
  'kind=sync&status=weird',
  'force_refresh=maybe&provider_config_key=x',
];
const badBodies = [
  '{"a":',
  '[1,2',
  'null',
  '"just a string"',
  '12',
  '{"provider": {"$gt": ""}}',
  '{"__proto__": {"admin": true}}',
  '\u0000',
];

type Req = { method: string; path: string; body?: string; headers: Record<string, string> };

function fill(path: string, segment: string): string {
  return path.replace(/\{[a-z]+\}/g, segment);
}

function cases(secretKey: string): Req[] {
  const auth = { authorization: `Bearer ${secretKey}` };
  const out: Req[] = [];
  const session = (r: (typeof routes)[number]) =>
    r.path.startsWith('/connect/session') && !r.path.startsWith('/connect/sessions');
  for (const r of routes) {
    const okPath = fill(r.path, 'fuzz-target');
    // missing and wrong credentials
    out.push({ method: r.method, path: okPath, headers: {} });
    out.push({
      method: r.method,
      path: okPath,
      headers: { authorization: 'Bearer 11111111-1111-4111-8111-111111111111' },
    });
    out.push({ method: r.method, path: okPath, headers: { authorization: 'Token abc' } });
    out.push({ method: r.method, path: okPath, headers: { authorization: `Bearer ${'x'.repeat(8000)}` } });
    if (session(r)) continue;
    // bad path segments
    if (r.path.includes('{'))
      for (const s of badSegments) out.push({ method: r.method, path: fill(r.path, s), headers: auth });
    // bad queries
    if (r.query)
      for (const q of badQueries) out.push({ method: r.method, path: `${okPath}?${q}`, headers: auth });
    // bad bodies
    if (r.body) {
      for (const b of badBodies)
        out.push({
          method: r.method,
          path: okPath,
          body: b,
          headers: { ...auth, 'content-type': 'application/json' },
        });
      out.push({
        method: r.method,
        path: okPath,
        body: 'x'.repeat(1_200_000),
        headers: { ...auth, 'content-type': 'application/json' },
      });
      out.push({
        method: r.method,
        path: okPath,
        body: '{}',
        headers: { ...auth, 'content-type': 'application/json; charset=utf-7' },
      });
      out.push({
        method: r.method,
        path: okPath,
        body: '{"a":1}',
        headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'br-nope' },
      });
    }
  }
  return out;
}

describeEachDatabase('fuzz: malformed requests', (get) => {
  async function send(r: Req): Promise<{ status: number; body: any }> {
    const res = await fetch(get().url + r.path, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  }

  function expectEnvelope4xx(r: Req, res: { status: number; body: any }): void {
    const label = `${r.method} ${r.path.slice(0, 80)} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
    expect(res.status, label).toBeGreaterThanOrEqual(400);
    expect(res.status, label).toBeLessThan(500);
    expect(typeof res.body?.error?.code, label).toBe('string');
    expect(typeof res.body?.error?.message, label).toBe('string');
  }

  it('answers every hand-made malformed request with a 4xx in the envelope', async () => {
    const { api, secretKey } = get();
    await api('POST', '/integrations', { provider: 'github', unique_key: 'fuzz-target' });
    const all = cases(secretKey);
    expect(all.length).toBeGreaterThanOrEqual(250);
    for (const r of all) expectEnvelope4xx(r, await send(r));
  });

  it('answers random JSON bodies with a 4xx in the envelope', async () => {
    const { secretKey } = get();
    const bodyRoutes = routes.filter((r) => r.body);
    let count = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bodyRoutes),
        fc.jsonValue({ maxDepth: 4 }),
        async (route, value) => {
          const r: Req = {
            method: route.method,
            path: fill(route.path, 'fuzz-target'),
            body: JSON.stringify(value),
            headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
          };
          count++;
          expectEnvelope4xx(r, await send(r));
        },
      ),
      { numRuns: 150, seed: 20261127 },
    );
    expect(count).toBe(150);
  });

  it('answers random query strings on reading routes without a 5xx', async () => {
    const { secretKey } = get();
    const queryRoutes = routes.filter((r) => r.query);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...queryRoutes),
        fc.dictionary(
          fc.constantFrom(
            'limit',
            'page',
            'cursor',
            'provider_config_key',
            'include',
            'from',
            'kind',
            'tags[a]',
            'search',
            'refresh_token',
          ),
          fc.string({ maxLength: 40 }),
        ),
        async (route, query) => {
          const qs = new URLSearchParams(query).toString();
          const res = await send({
            method: route.method,
            path: `${fill(route.path, 'fuzz-target')}?${qs}`,
            headers: { authorization: `Bearer ${secretKey}` },
          });
          expect(res.status, `${route.path}?${qs} → ${JSON.stringify(res.body)}`).toBeLessThan(500);
          if (res.status >= 400) expect(typeof res.body.error.code).toBe('string');
        },
      ),
      { numRuns: 100, seed: 7 },
    );
  });
});
