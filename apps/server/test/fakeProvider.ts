import { createHash } from 'node:crypto';
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { importSPKI, jwtVerify } from 'jose';
import OAuth from 'oauth-1.0a';

/** What the fake provider saw and how it should behave next; tests flip these. */
export interface FakeProviderState {
  /** Where the fake GitHub sends the user after an app installation (the server's setup URL). */
  setupUrl: string;
  deny: boolean;
  tokenDown: boolean;
  tokenRequests: Record<string, string>[];
  /** The Authorization header and content type of each token request. */
  tokenRequestMeta: { authorization: string | undefined; contentType: string | undefined }[];
  authorizeQueries: Record<string, string>[];
  verifications: string[];
}

/** Credentials the fake accepts. */
export const FAKE = {
  clientId: 'fake-client',
  clientSecret: 'fake-secret',
  apiKey: 'good-key',
  username: 'ada',
  password: 'lovelace',
  appId: '1234',
  installationId: '42',
} as const;

const s256 = (v: string): string => createHash('sha256').update(v).digest('base64url');

function parseOAuthHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (header ?? '').replace(/^OAuth\s+/, '').matchAll(/([\w]+)="([^"]*)"/g)) {
    out[m[1]!] = decodeURIComponent(m[2]!);
  }
  return out;
}

/**
 * A small OAuth 2 / OAuth 1 / GitHub-App / API-key provider on 127.0.0.1 with real HTTP, strict about what it
 * checks: client secret, redirect URI, PKCE S256, single-use codes, OAuth 1 HMAC-SHA1 signatures, app JWTs.
 */
export async function startFakeProvider(appPublicKeyPem: string): Promise<{
  url: string;
  state: FakeProviderState;
  close(): Promise<void>;
}> {
  const state: FakeProviderState = {
    setupUrl: '',
    deny: false,
    tokenDown: false,
    tokenRequests: [],
    tokenRequestMeta: [],
    authorizeQueries: [],
    verifications: [],
  };
  const codes = new Map<string, { challenge?: string; redirectUri: string }>();
  const oauth1Tokens = new Map<string, { secret: string; verifier?: string; callback: string }>();
  let n = 0;
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(express.json());

  app.get('/authorize', (req, res) => {
    const q = req.query as Record<string, string>;
    state.authorizeQueries.push(q);
    const back = new URL(q.redirect_uri ?? '');
    back.searchParams.set('state', q.state ?? '');
    if (state.deny) {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = `code-${++n}`;
      codes.set(code, { challenge: q.code_challenge, redirectUri: q.redirect_uri ?? '' });
      back.searchParams.set('code', code);
    }
    res.redirect(302, back.toString());
  });

  app.post('/token', (req, res) => {
    const body = req.body as Record<string, string>;
    state.tokenRequests.push(body);
    state.tokenRequestMeta.push({
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
    });
    if (state.tokenDown) {
      res.status(503).send('down');
      return;
    }
    // Client authentication in the body (client_secret_post) or with HTTP Basic (client_secret_basic).
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent)
      : [body.client_id, body.client_secret];
    if (basicId !== FAKE.clientId || basicSecret !== FAKE.clientSecret) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    if (body.grant_type === 'client_credentials') {
      res.json({ access_token: `cc-${++n}`, token_type: 'bearer', expires_in: 3600 });
      return;
    }
    const code = codes.get(body.code ?? '');
    codes.delete(body.code ?? '');
    if (
      !code ||
      code.redirectUri !== body.redirect_uri ||
      (code.challenge && s256(body.code_verifier ?? '') !== code.challenge)
    ) {
      res.status(400).json({ error: 'invalid_grant' });
      return;
    }
    res.json({
      access_token: `at-${++n}`,
      refresh_token: `rt-${n}`,
      token_type: 'bearer',
      expires_in: 3600,
      team: { id: 'T42' },
    });
  });

  app.get('/me', (req, res) => {
    const auth = req.headers.authorization ?? '';
    state.verifications.push(auth);
    const basic = `Basic ${Buffer.from(`${FAKE.username}:${FAKE.password}`).toString('base64')}`;
    if (auth === `Bearer ${FAKE.apiKey}` || auth === basic) res.json({ id: 'me' });
    else res.status(401).json({ error: 'unauthorized' });
  });

  // OAuth 1.0a: every request's HMAC-SHA1 signature is checked.
  const consumer = new OAuth({
    consumer: { key: FAKE.clientId, secret: FAKE.clientSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
  });
  const signed = (
    req: express.Request,
    tokenSecret: string | undefined,
  ): Record<string, string> | undefined => {
    const p = parseOAuthHeader(req.headers.authorization);
    const { oauth_signature: signature, ...data } = p;
    const url = `http://${req.headers.host}${req.path}`;
    const expected = consumer.getSignature(
      { url, method: req.method, data: { ...data, ...(req.body as object) } },
      tokenSecret,
      data as never,
    );
    return signature && signature === expected && p.oauth_consumer_key === FAKE.clientId ? p : undefined;
  };
  app.post('/oauth1/request_token', (req, res) => {
    const p = signed(req, undefined);
    if (!p?.oauth_callback) {
      res.status(401).send('bad signature');
      return;
    }
    const token = `rq-${++n}`;
    oauth1Tokens.set(token, { secret: `rqs-${n}`, callback: p.oauth_callback });
    res
      .type('application/x-www-form-urlencoded')
      .send(`oauth_token=${token}&oauth_token_secret=rqs-${n}&oauth_callback_confirmed=true`);
  });
  app.get('/oauth1/authorize', (req, res) => {
    const t = oauth1Tokens.get((req.query as Record<string, string>).oauth_token ?? '');
    if (!t) {
      res.status(400).send('unknown token');
      return;
    }
    t.verifier = `v-${++n}`;
    const back = new URL(t.callback);
    back.searchParams.set('oauth_token', (req.query as Record<string, string>).oauth_token ?? '');
    back.searchParams.set('oauth_verifier', t.verifier);
    res.redirect(302, back.toString());
  });
  app.post('/oauth1/access_token', (req, res) => {
    const p = parseOAuthHeader(req.headers.authorization);
    const t = oauth1Tokens.get(p.oauth_token ?? '');
    if (!t || !signed(req, t.secret) || p.oauth_verifier !== t.verifier) {
      res.status(401).send('bad signature or verifier');
      return;
    }
    oauth1Tokens.delete(p.oauth_token ?? '');
    res
      .type('application/x-www-form-urlencoded')
      .send(`oauth_token=at1-${++n}&oauth_token_secret=ats1-${n}&user_id=7`);
  });

  // GitHub App: install page → setup URL; installation tokens for a valid app JWT.
  const publicKey = await importSPKI(appPublicKeyPem, 'RS256');
  app.get('/apps/:slug/installations/new', (req, res) => {
    const back = new URL(state.setupUrl);
    back.searchParams.set('installation_id', FAKE.installationId);
    back.searchParams.set('setup_action', 'install');
    back.searchParams.set('state', (req.query as Record<string, string>).state ?? '');
    res.redirect(302, back.toString());
  });
  app.post('/app/installations/:id/access_tokens', async (req, res) => {
    try {
      const jwt = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const { payload } = await jwtVerify(jwt, publicKey, { issuer: FAKE.appId, algorithms: ['RS256'] });
      if (req.params.id !== FAKE.installationId || !payload.exp) throw new Error('bad installation');
      res
        .status(201)
        .json({ token: `ghs_${++n}`, expires_at: new Date(Date.now() + 3600_000).toISOString() });
    } catch {
      res.status(401).json({ message: 'A JSON web token could not be decoded' });
    }
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The providers file pointing fake-* providers at the fake provider. */
export function fakeProvidersYaml(base: string): string {
  return `
fake-oauth2:
  display_name: Fake OAuth2
  docs: https://example.com/docs
  auth_mode: OAUTH2
  authorization_url: ${base}/authorize
  token_url: ${base}/token
  authorization_params: { prompt: consent }
  scope_separator: ','
  default_scopes: [read]
  token_response_metadata: [team.id]
  proxy: { base_url: ${base} }
fake-oauth2-basic:
  display_name: Fake OAuth2 (Basic client auth, JSON, no PKCE)
  docs: https://example.com/docs
  auth_mode: OAUTH2
  authorization_url: ${base}/authorize
  token_url: ${base}/token
  token_request_auth_method: basic
  body_format: json
  disable_pkce: true
  token_params: { audience: 'https://api.example.com' }
  proxy: { base_url: ${base} }
fake-oauth1:
  display_name: Fake OAuth1
  docs: https://example.com/docs
  auth_mode: OAUTH1
  request_url: ${base}/oauth1/request_token
  authorization_url: ${base}/oauth1/authorize
  token_url: ${base}/oauth1/access_token
  proxy: { base_url: ${base} }
fake-cc:
  display_name: Fake client credentials
  docs: https://example.com/docs
  auth_mode: OAUTH2_CC
  token_url: ${base}/token
  proxy: { base_url: ${base} }
fake-app:
  display_name: Fake GitHub App
  docs: https://example.com/docs
  auth_mode: APP
  authorization_url: ${base}/apps/\${connectionConfig.appPublicLink}/installations/new
  token_url: ${base}/app/installations/\${connectionConfig.installation_id}/access_tokens
  redirect_uri_metadata: [installation_id, setup_action]
  proxy: { base_url: ${base} }
fake-apikey:
  display_name: Fake API key
  docs: https://example.com/docs
  auth_mode: API_KEY
  proxy:
    base_url: ${base}
    headers: { authorization: 'Bearer \${apiKey}' }
    verification: { method: GET, endpoints: [/me] }
fake-basic:
  display_name: Fake basic
  docs: https://example.com/docs
  auth_mode: BASIC
  proxy:
    base_url: ${base}
    verification: { method: GET, endpoints: [/me] }
fake-none:
  display_name: Fake no auth
  docs: https://example.com/docs
  auth_mode: NONE
`;
}
