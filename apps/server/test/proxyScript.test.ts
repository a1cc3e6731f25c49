import { createRuntime } from '@ferry/runtime';
import { afterAll, expect, it } from 'vitest';
import { createScriptProxy, scriptProviderInfo } from '../src/proxy/script.js';
import { describeEachDatabase } from './harness.js';
import { hostWith } from './proxyClient.js';
import { proxyProvidersFile, startProxyUpstream, type ProxyUpstream } from './proxyUpstream.js';

let upstream: ProxyUpstream;
const runtime = createRuntime({ poolSize: 1 });
afterAll(() => runtime.dispose());

// A Nango-style script: one page walk with the provider's link pagination defaults, one with its own cursor
// settings; the fake rate-limits page 2 of the first (429 + Retry-After) and page 1 of the second
// (GitHub-style 403 with x-ratelimit-remaining: 0).
const code = `"use strict";
module.exports.default = async function run(nango, key) {
  const linked = [];
  for await (const page of nango.paginate({ endpoint: '/link', params: { key }, retries: 3 })) {
    linked.push(...page.map((r) => r.id));
  }
  const cursored = [];
  const paginate = { type: 'cursor', cursor_path_in_response: 'next_cursor', cursor_name_in_request: 'cursor', response_path: 'data.records' };
  for await (const page of nango.paginate({ endpoint: '/cursor', params: { key }, retries: 3, paginate })) {
    cursored.push(...page.map((r) => r.id));
  }
  const echoed = await nango.post({ endpoint: '/echo', data: { hello: 'world' } });
  return { linked, cursored, echoed: echoed.data.body_text, auth: echoed.data.headers.authorization };
};
`;

describeEachDatabase(
  'proxy for scripts',
  (get) => {
    it("walks link and cursor pages through the proxy engine, waiting out rate limits, with the provider's paginate defaults", async () => {
      const ts = get();
      await ts.api('POST', '/integrations', {
        provider: 'fake-api',
        unique_key: 'api',
        credentials: { type: 'OAUTH2', client_id: 'c', client_secret: 's' },
      });
      await ts.api('POST', '/connections', {
        provider_config_key: 'api',
        connection_id: 'c1',
        credentials: { type: 'OAUTH2', access_token: 'script-token' },
      });
      const services = ts.server.services;
      const env = await services.environments.bySecretKey(ts.secretKey);
      const operation = services.activity.start({
        environmentId: env?.id ?? 0,
        kind: 'sync',
        name: 'paginate-test',
      });
      const proxy = createScriptProxy(services.proxy, {
        environmentId: env?.id ?? 0,
        connectionId: 'c1',
        providerConfigKey: 'api',
        operation,
      });
      const key = `run-${Date.now()}`;
      const result = await runtime.run({
        code,
        kind: 'action',
        input: key,
        context: {
          connectionId: 'c1',
          providerConfigKey: 'api',
          provider: scriptProviderInfo(services.providers, 'fake-api'),
        },
        host: hostWith(proxy),
      });
      operation.end('success');
      expect(result.error).toBeUndefined();
      expect(result.output).toEqual({
        linked: ['l1a', 'l1b', 'l2a', 'l2b', 'l3a', 'l3b'],
        cursored: ['c0', 'c1', 'c2'],
        echoed: '{"hello":"world"}',
        auth: 'Bearer script-token',
      });
      // Upstream attempts: one per page plus one per rate-limited page.
      const mine = (path: string) => upstream.hits(path).filter((h) => h.url.includes(key));
      expect(mine('/link').map((h) => new URL(h.url, 'http://x').searchParams.get('page') ?? '1')).toEqual([
        '1',
        '2',
        '2',
        '3',
      ]);
      expect(
        mine('/cursor').map((h) => new URL(h.url, 'http://x').searchParams.get('cursor') ?? '0'),
      ).toEqual(['0', '1', '1', '2']);
      const messages = await ts.api('GET', `/logs/operations/${operation.id}/messages`);
      const texts = (messages.body as { data: { message: string }[] }).data.map((m) => m.message);
      expect(texts.filter((t) => /retrying/.test(t))).toHaveLength(2);
      expect(texts.filter((t) => /→ 200 after/.test(t))).toHaveLength(7); // 3 + 3 pages and the POST
    });
  },
  {
    setup: async () => {
      upstream = await startProxyUpstream();
      return {
        providersFile: proxyProvidersFile(upstream.url, 'http://127.0.0.1:9'),
        proxy: { allowPrivateNetworks: true, backoffBaseMs: 20 },
      };
    },
  },
);
