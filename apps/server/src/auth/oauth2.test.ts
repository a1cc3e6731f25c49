import type { Provider } from '@ferry/providers';
import { describe, expect, it } from 'vitest';
import type { FlowContext } from './flows.js';
import { authorizeUrl, scopesOf, tokenUrlOf } from './oauth2.js';
import { pkceChallenge } from './pkce.js';

const provider = (p: Partial<Provider> = {}): Provider => ({
  display_name: 'X',
  docs: 'https://example.com',
  auth_mode: 'OAUTH2',
  authorization_url: 'https://${connectionConfig.subdomain}.example.com/oauth/authorize',
  token_url: 'https://example.com/token',
  ...p,
});

const ctx = (c: Partial<FlowContext> = {}): FlowContext => ({
  connectSessionId: 1,
  endUserRowId: null,
  tags: {},
  reconnectConnectionRowId: null,
  connectionId: null,
  connectionConfig: { subdomain: 'acme' },
  userScopes: [],
  authorizationParams: {},
  scopesOverride: null,
  ...c,
});

const query = (url: string): Record<string, string> => Object.fromEntries(new URL(url).searchParams);

describe('authorizeUrl', () => {
  const base = { clientId: 'cid', scopes: 'a b', state: 'S', redirectUri: 'https://ferry/oauth/callback' };

  it('interpolates the URL, adds PKCE S256 and the state', () => {
    const url = authorizeUrl({ ...base, provider: provider(), ctx: ctx(), codeVerifier: 'v'.repeat(43) });
    expect(url.startsWith('https://acme.example.com/oauth/authorize?')).toBe(true);
    expect(query(url)).toEqual({
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'https://ferry/oauth/callback',
      scope: 'a b',
      state: 'S',
      code_challenge: pkceChallenge('v'.repeat(43)),
      code_challenge_method: 'S256',
    });
  });

  it('applies template params, then the caller’s (null removes), but never lets them replace reserved ones', () => {
    const url = authorizeUrl({
      ...base,
      provider: provider({
        authorization_params: { access_type: 'offline', prompt: 'consent', team: '${connectionConfig.team}' },
      }),
      ctx: ctx({
        authorizationParams: {
          prompt: null,
          audience: 'api',
          redirect_uri: 'https://evil',
          client_id: 'x',
          state: 'x',
        },
      }),
      codeVerifier: undefined,
    });
    expect(query(url)).toEqual({
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'https://ferry/oauth/callback',
      scope: 'a b',
      state: 'S',
      access_type: 'offline',
      audience: 'api',
    });
  });
});

describe('scopesOf', () => {
  it.each([
    {
      name: 'integration scopes + user scopes, deduplicated',
      p: {},
      scopes: 'a,b',
      c: { userScopes: ['b', 'c'] },
      want: 'a b c',
    },
    { name: 'provider separator', p: { scope_separator: ',' }, scopes: 'a b', c: {}, want: 'a,b' },
    {
      name: 'provider defaults when the integration has none',
      p: { default_scopes: ['d'] },
      scopes: null,
      c: {},
      want: 'd',
    },
    { name: 'the session override wins', p: {}, scopes: 'a', c: { scopesOverride: ['o'] }, want: 'o' },
  ])('$name', ({ p, scopes, c, want }) => {
    expect(scopesOf(provider(p), scopes, ctx(c))).toBe(want);
  });
});

describe('tokenUrlOf', () => {
  it('reads a per-mode map', () => {
    expect(
      tokenUrlOf(provider({ token_url: { OAUTH2: 'https://a', OAUTH2_CC: 'https://b' } }), 'OAUTH2_CC'),
    ).toBe('https://b');
    expect(tokenUrlOf(provider(), 'OAUTH2')).toBe('https://example.com/token');
  });
});
