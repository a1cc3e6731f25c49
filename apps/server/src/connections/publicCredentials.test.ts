import { describe, expect, it } from 'vitest';
import type { StoredCredentials } from './credentials.js';
import { publicCredentials } from './publicCredentials.js';

const RT = 'rt-5f0c1d2e3b4a';

const oauth2 = (raw: Record<string, unknown>, refresh: string | undefined = RT): StoredCredentials => ({
  type: 'OAUTH2',
  access_token: 'at-1',
  ...(refresh ? { refresh_token: refresh } : {}),
  expires_at: '2030-01-01T00:00:00.000Z',
  raw,
});

describe('publicCredentials', () => {
  const cases: { name: string; given: StoredCredentials; want: StoredCredentials }[] = [
    {
      name: 'the usual place: top level and raw.refresh_token',
      given: oauth2({ access_token: 'at-1', refresh_token: RT, expires_in: 3600 }),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { access_token: 'at-1', expires_in: 3600 },
      },
    },
    {
      name: 'nested object under another key name',
      given: oauth2({ access_token: 'at-1', data: { tokens: { renew: RT, scope: 'read' } } }),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { access_token: 'at-1', data: { tokens: { scope: 'read' } } },
      },
    },
    {
      name: 'inside an array',
      given: oauth2({ access_token: 'at-1', tokens: ['at-1', RT], grants: [{ value: RT, kind: 'r' }] }),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { access_token: 'at-1', tokens: ['at-1'], grants: [{ kind: 'r' }] },
      },
    },
    {
      name: 'camelCase and other spellings of the key, even with a token not stored at top level',
      given: oauth2(
        { accessToken: 'at-1', refreshToken: 'other-rt-value', 'Refresh-Token': RT, REFRESH_TOKEN: null },
        undefined,
      ),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { accessToken: 'at-1' },
      },
    },
    {
      name: 'a value found under a refresh-token key is also removed where it appears under another key',
      given: oauth2({ result: { refreshToken: 'x-9a8b7c6d5e' }, echo: { copy: 'x-9a8b7c6d5e' } }, undefined),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { result: {}, echo: {} },
      },
    },
    {
      name: 'a raw string (form-encoded body) containing the token',
      given: oauth2({ body: `access_token=at-1&refresh_token=${RT}&expires_in=3600`, status: 200 }),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { status: 200 },
      },
    },
    {
      name: 'a short token only matches exactly, not inside longer text',
      given: oauth2({ r: 'ab', note: 'abc tab' }, 'ab'),
      want: {
        type: 'OAUTH2',
        access_token: 'at-1',
        expires_at: '2030-01-01T00:00:00.000Z',
        raw: { note: 'abc tab' },
      },
    },
    {
      name: 'nothing to remove',
      given: { type: 'OAUTH1', oauth_token: 'ot', oauth_token_secret: 'ots', raw: { user_id: 7 } },
      want: { type: 'OAUTH1', oauth_token: 'ot', oauth_token_secret: 'ots', raw: { user_id: 7 } },
    },
    {
      name: 'client credentials with a refresh token in raw',
      given: {
        type: 'OAUTH2_CC',
        token: 'tk',
        client_id: 'cid',
        client_secret: 'cs',
        raw: { token: 'tk', refresh_token: RT },
      },
      want: { type: 'OAUTH2_CC', token: 'tk', client_id: 'cid', client_secret: 'cs', raw: { token: 'tk' } },
    },
    {
      name: 'API key',
      given: { type: 'API_KEY', apiKey: 'k' },
      want: { type: 'API_KEY', apiKey: 'k' },
    },
  ];

  it.each(cases)('$name', ({ given, want }) => {
    const frozen = structuredClone(given);
    expect(publicCredentials(given, { includeRefreshToken: false })).toEqual(want);
    expect(given).toEqual(frozen);
  });

  it.each(cases)('$name, with includeRefreshToken: unchanged', ({ given }) => {
    expect(publicCredentials(given, { includeRefreshToken: true })).toEqual(given);
  });

  it('works on frozen (shared) credentials', () => {
    const given = Object.freeze(oauth2({ refresh_token: RT }));
    expect(publicCredentials(given, { includeRefreshToken: false })).not.toHaveProperty('refresh_token');
  });
});
