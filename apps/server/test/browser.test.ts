import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ferry as FerryNode } from '@ferry/node';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StoredCredentials } from '../src/connections/credentials.js';
import { describeEachDatabase, freePort, type TestServer } from './harness.js';
import { startOidcProvider, type OidcServer } from './oidcProvider.js';

/*
 * The OAuth popup as production runs it: three sites (provider on 127.0.0.2, Ferry on 127.0.0.1, the product's
 * page on localhost), Chromium's popup blocker on, the real @ferry/frontend bundle, panva's oidc-provider with its
 * own sign-in and consent pages.
 */

const KEY = 'oidc-test';
let browser: Browser;
let sdk: string;
let oidc: OidcServer;
let serverPort: number;
let pageServer: Server;
let pageUrl: string;
const external: string[] = [];

const PAGE = `<!doctype html><meta charset="utf-8"><title>Product</title><button id="connect">Connect</button>
<script type="module">
import { Ferry } from '/sdk.js';
window.flowIds = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (...args) => {
  const res = await realFetch(...args);
  if (String(args[0]).endsWith('/oauth/flows')) res.clone().json().then((b) => window.flowIds.push(b.data && b.data.flow_id));
  return res;
};
window.run = () => {
  window.result = undefined;
  const ferry = new Ferry({ host: window.host, connectSessionToken: window.token, closedWindowGraceMs: window.grace || 120000 });
  window.pending = ferry.auth(window.key || '${KEY}').then(
    (r) => (window.result = { ok: true, ...r }),
    (e) => (window.result = { ok: false, code: e.code, message: e.message }),
  );
  return window.pending;
};
document.getElementById('connect').addEventListener('click', () => { window.run(); });
// ?autorun: start right after load, with no click (no user activation), as a page that opens the popup too late.
if (location.hash.startsWith('#autorun:')) {
  const [host, token] = decodeURIComponent(location.hash.slice(9)).split('|');
  Object.assign(window, { host, token });
  window.run();
}
window.ready = true;
</script>`;

beforeAll(async () => {
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: {
        entry: fileURLToPath(new URL('../../../packages/frontend/src/index.ts', import.meta.url)),
        formats: ['es'],
        fileName: 'sdk',
      },
    },
  });
  const output = (Array.isArray(out) ? out[0]! : out) as { output: { type: string; code?: string }[] };
  sdk = output.output.find((o) => o.type === 'chunk')!.code!;

  serverPort = await freePort();
  oidc = await startOidcProvider('127.0.0.2', `http://127.0.0.1:${serverPort}/oauth/callback`);
  pageServer = createServer((req, res) => {
    if (req.url === '/sdk.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://localhost:${(pageServer.address() as AddressInfo).port}/`;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Playwright turns Chromium's popup blocker off; production browsers have it on.
    ignoreDefaultArgs: ['--disable-popup-blocking'],
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await oidc?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
  // oidc-provider's pages link a web font; the test aborts every request outside the three local sites.
  expect(external.filter((u) => !u.startsWith('https://fonts.googleapis.com/'))).toEqual([]);
});

const setup = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-browser-'));
  const providersFile = join(dir, 'providers.yaml');
  writeFileSync(
    providersFile,
    `${KEY}:
  display_name: oidc-provider
  docs: https://github.com/panva/node-oidc-provider
  auth_mode: OAUTH2
  authorization_url: ${oidc.url}/auth
  token_url: ${oidc.url}/token
  authorization_params: { prompt: consent }
  proxy: { base_url: ${oidc.url} }
`,
  );
  return { providersFile, publicUrl: true, port: serverPort };
};

describeEachDatabase(
  'browser OAuth popup with @ferry/frontend',
  (get) => {
    let ts: TestServer;
    let context: BrowserContext;
    let page: Page;
    let connectionId: string;

    const session = async (body: Record<string, unknown> = {}): Promise<string> => {
      const r = await ts.api('POST', '/connect/sessions', { end_user: { id: 'browser-user' }, ...body });
      expect(r.status).toBe(201);
      return r.body.data.token as string;
    };
    const prepare = async (token: string, extra: Record<string, unknown> = {}) => {
      await page.evaluate(
        ([host, t, e]) =>
          Object.assign(globalThis, { host, token: t, grace: undefined, key: undefined, ...e }),
        [ts.url, token, extra] as const,
      );
    };
    const clickConnect = async (): Promise<Page> => {
      const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#connect')]);
      return popup;
    };
    const result = async (): Promise<Record<string, string | boolean>> => {
      await page.waitForFunction(
        () => (globalThis as unknown as { result?: unknown }).result !== undefined,
        null,
        {
          timeout: 20_000,
        },
      );
      return page.evaluate(
        () => (globalThis as unknown as { result: Record<string, string | boolean> }).result,
      );
    };
    const signIn = async (popup: Page): Promise<void> => {
      await popup.waitForURL(/127\.0\.0\.2.*\/interaction\//);
      // Signed in already (the provider's session cookie) → straight to consent.
      if ((await popup.locator('input[name=login]').count()) > 0) {
        await popup.fill('input[name=login]', 'ada');
        await popup.fill('input[name=password]', 'any');
        await popup.click('button[type=submit]');
      }
      await popup.waitForSelector('button:has-text("Continue")');
      await popup.click('button:has-text("Continue")');
    };

    beforeAll(async () => {
      ts = get();
      const r = await ts.api('POST', '/integrations', {
        provider: KEY,
        unique_key: KEY,
        credentials: {
          type: 'OAUTH2',
          client_id: 'ferry',
          client_secret: 'ferry-secret-ferry-secret-ferry-secret',
          scopes: 'openid,offline_access',
        },
      });
      expect(r.status).toBe(200);
      context = await browser.newContext();
      await context.route('**/*', async (route) => {
        const url = new URL(route.request().url());
        if (['127.0.0.1', '127.0.0.2', 'localhost'].includes(url.hostname)) return route.continue();
        external.push(url.href);
        return route.abort();
      });
      page = await context.newPage();
      await page.goto(pageUrl);
      await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    });

    afterAll(async () => {
      await context?.close();
    });

    it('the popup blocker is on: auth() outside a click is blocked_by_browser', async () => {
      // A fresh page that calls auth() on load, not in a click: no user activation, so the blocker refuses.
      // (Playwright's evaluate() runs with a user gesture, so it cannot show this.)
      const late = await context.newPage();
      await late.goto(`${pageUrl}#autorun:${encodeURIComponent(`${ts.url}|${await session()}`)}`);
      await late.waitForFunction(() => (globalThis as unknown as { result?: unknown }).result !== undefined);
      const r = await late.evaluate(() => (globalThis as unknown as { result: unknown }).result);
      expect(r).toMatchObject({ ok: false, code: 'blocked_by_browser' });
      expect(context.pages()).toHaveLength(2);
      await late.close();
    });

    it('connects: click, sign in and consent on the provider, the SDK resolves with the connection id', async () => {
      await prepare(await session());
      const popup = await clickConnect();
      await signIn(popup);
      const r = await result();
      expect(r).toMatchObject({ ok: true, providerConfigKey: KEY });
      connectionId = r.connectionId as string;
      expect(
        popup.isClosed() || (await popup.waitForEvent('close', { timeout: 5000 }).then(() => true)),
      ).toBe(true);
      const conn = await ts.api(
        'GET',
        `/connections/${connectionId}?provider_config_key=${KEY}&refresh_token=true`,
      );
      expect(conn.body.credentials).toMatchObject({ type: 'OAUTH2', refresh_token: expect.any(String) });
      expect(conn.body.end_user).toMatchObject({ id: 'browser-user' });
    });

    it('still resolves when the provider sends Cross-Origin-Opener-Policy (long-poll fallback)', async () => {
      await prepare(await session());
      oidc.coopOnce();
      const served = oidc.coopServed;
      const popup = await clickConnect();
      await signIn(popup);
      const r = await result();
      expect(oidc.coopServed).toBe(served + 1);
      expect(r).toMatchObject({ ok: true, providerConfigKey: KEY });
      // The popup lost its opener, so the result came from the server, not from postMessage.
      expect(await popup.evaluate(() => (globalThis as unknown as { opener: unknown }).opener === null)).toBe(
        true,
      );
      expect(ts.logLines.some((l) => l.includes('"path":"/oauth/flows/'))).toBe(true);
      await popup.close();
    });

    it('ignores a message from another origin, then reports window_closed when the user closes the popup', async () => {
      await prepare(await session(), { grace: 1500 });
      const popup = await clickConnect();
      await popup.waitForURL(/127\.0\.0\.2.*\/interaction\//);
      const stillPending = await page.evaluate(async () => {
        const w = globalThis as unknown as { flowIds: string[]; result?: unknown };
        const forged = {
          type: 'ferry_auth_success',
          flowId: w.flowIds.at(-1),
          providerConfigKey: 'oidc-test',
          connectionId: 'forged',
        };
        (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage(forged, '*');
        await new Promise((r) => setTimeout(r, 50));
        return w.result === undefined;
      });
      expect(stillPending).toBe(true);
      await popup.close();
      expect(await result()).toMatchObject({ ok: false, code: 'window_closed' });
    });

    it('reports window_closed at once when the popup is closed before it reached the server', async () => {
      await prepare(await session()); // default grace: 2 minutes
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      await context.route('**/oauth/connect/**', async (route) => {
        await held;
        await route.abort().catch(() => undefined);
      });
      try {
        const flows = await page.evaluate(
          () => (globalThis as unknown as { flowIds: string[] }).flowIds.length,
        );
        const popup = await clickConnect();
        await page.waitForFunction(
          (n) => (globalThis as unknown as { flowIds: string[] }).flowIds.length > n,
          flows,
        );
        // The SDK's questions to the server about this flow, once the popup is closed.
        const asked: Request[] = [];
        const onRequest = (request: Request): void => {
          if (request.method() === 'GET' && /\/oauth\/flows\/[^/?]+\?/.test(request.url()))
            asked.push(request);
        };
        page.on('request', onRequest);
        await popup.close();
        expect(await result()).toMatchObject({ ok: false, code: 'window_closed' });
        page.off('request', onRequest);
        // What ended the wait: the first question, answered at once (wait=0), said the flow never started; no
        // long-poll ran on towards the 2-minute grace.
        expect(asked.map((r) => new URL(r.url()).searchParams.get('wait'))).toEqual(['0']);
        const answer = await asked[0]!.response();
        expect(await answer!.json()).toMatchObject({ data: { status: 'pending', started: false } });
      } finally {
        release();
        await context.unroute('**/oauth/connect/**');
      }
    });

    it('a tampered code is token_err at the real token endpoint, and the state cannot be replayed', async () => {
      await prepare(await session());
      const tampered = oidc.tamperNextCode();
      const popup = await clickConnect();
      await signIn(popup);
      expect(await result()).toMatchObject({ ok: false, code: 'token_err' });
      // The untampered redirect, replayed: its state was used up by the first callback.
      const original = await tampered;
      expect(original).toContain('state=');
      const replay = await context.newPage();
      const response = await replay.goto(original);
      expect(response?.status()).toBe(400);
      expect(await replay.textContent('body')).toContain('already used');
      await replay.close();
    });

    it('state_err when the state cookie is gone, token_err when the token endpoint is down', async () => {
      await prepare(await session());
      let popup = await clickConnect();
      await popup.waitForURL(/127\.0\.0\.2.*\/interaction\//);
      const stateCookies = (await context.cookies('http://127.0.0.1/')).filter((c) =>
        c.name.startsWith('ferry_oauth_'),
      );
      // (Abandoned flows of earlier tests left theirs until they expire.)
      expect(stateCookies.length).toBeGreaterThan(0);
      for (const c of stateCookies) {
        expect(c).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
        await context.clearCookies({ name: c.name });
      }
      await signIn(popup);
      expect(await result()).toMatchObject({ ok: false, code: 'state_err' });

      await prepare(await session());
      oidc.tokenDownOnce();
      popup = await clickConnect();
      await signIn(popup);
      expect(await result()).toMatchObject({ ok: false, code: 'token_err' });
    });

    it('reports access_denied when the user cancels at the provider', async () => {
      await prepare(await session());
      const popup = await clickConnect();
      await popup.waitForURL(/127\.0\.0\.2.*\/interaction\//);
      await popup.click('text=[ Cancel ]');
      expect(await result()).toMatchObject({ ok: false, code: 'access_denied' });
    });

    it('rejects an expired session token and an integration outside allowed_integrations', async () => {
      await prepare(await session({ allowed_integrations: [] }));
      await clickConnect();
      expect(await result()).toMatchObject({ ok: false, code: 'integration_not_allowed' });
      const token = await session();
      await ts.server.services.store.db
        .updateTable('connect_sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .execute();
      await prepare(token);
      await clickConnect();
      expect(await result()).toMatchObject({ ok: false, code: 'invalid_connect_session_token' });
    });

    it('refresh: an expired token read with @ferry/node is refreshed, and the refresh token survives', async () => {
      const node = new FerryNode({ host: ts.url, secretKey: ts.secretKey });
      const before = await node.getConnection(KEY, connectionId, { refreshToken: true });
      const creds = before.credentials as Extract<StoredCredentials, { type: 'OAUTH2' }>;
      // Make the token expire: one minute left, well inside the refresh margin.
      const expired = { ...creds, expires_at: new Date(Date.now() + 60_000).toISOString() };
      const { services } = ts.server;
      await services.store.db
        .updateTable('connections')
        .set({
          credentials_enc: services.encryptor.encryptJson(expired),
          credentials_expires_at: expired.expires_at,
        })
        .where('id', '=', before.id)
        .execute();
      const refreshes = oidc.tokenCalls.refresh_token ?? 0;
      const after = await node.getConnection(KEY, connectionId, { refreshToken: true });
      const fresh = after.credentials as Extract<StoredCredentials, { type: 'OAUTH2' }>;
      expect(oidc.tokenCalls.refresh_token).toBe(refreshes + 1);
      expect(fresh.access_token).not.toBe(creds.access_token);
      expect(Date.parse(fresh.expires_at!)).toBeGreaterThan(Date.now() + 30 * 60_000);
      expect(fresh.refresh_token).toEqual(expect.any(String));
      // The surviving refresh token works.
      const again = await node.getConnection(KEY, connectionId, { forceRefresh: true, refreshToken: true });
      expect((again.credentials as { access_token: string }).access_token).not.toBe(fresh.access_token);
      await node.close();
    });
  },
  { setup },
);
