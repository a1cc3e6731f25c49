import { z } from 'zod';

const isoOrDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);
const raw = z.record(z.string(), z.unknown());

/** Credentials a caller may import with `POST /connections`, by type. */
export const importCredentialsSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('OAUTH2'),
    access_token: z.string().min(1).max(16384),
    refresh_token: z.string().min(1).max(16384).optional(),
    expires_at: isoOrDate.optional(),
    expires_in: z.number().int().positive().optional(),
    raw: raw.optional(),
    config_override: z
      .object({ client_id: z.string().optional(), client_secret: z.string().optional() })
      .optional(),
  }),
  z.object({
    type: z.literal('OAUTH1'),
    oauth_token: z.string().min(1).max(16384),
    oauth_token_secret: z.string().min(1).max(16384),
    raw: raw.optional(),
  }),
  z.object({
    type: z.literal('OAUTH2_CC'),
    token: z.string().min(1).max(16384),
    expires_at: isoOrDate.optional(),
    client_id: z.string().max(4096).optional(),
    client_secret: z.string().max(4096).optional(),
    raw: raw.optional(),
  }),
  z.object({ type: z.literal('API_KEY'), apiKey: z.string().min(1).max(16384) }),
  z.object({ type: z.literal('BASIC'), username: z.string().max(4096), password: z.string().max(16384) }),
  z.object({
    type: z.literal('APP'),
    app_id: z.string().optional(),
    installation_id: z.string().optional(),
    access_token: z.string().optional(),
    expires_at: isoOrDate.optional(),
  }),
  z.object({ type: z.literal('NONE') }),
]);

export type ImportCredentials = z.infer<typeof importCredentialsSchema>;

/** Credentials as stored (encrypted) and returned by `GET /connections/:id`. Dates are ISO strings. */
export type StoredCredentials =
  | {
      type: 'OAUTH2';
      access_token: string;
      refresh_token?: string;
      expires_at?: string;
      raw: Record<string, unknown>;
      config_override?: { client_id?: string | undefined; client_secret?: string | undefined };
    }
  | { type: 'OAUTH1'; oauth_token: string; oauth_token_secret: string; raw: Record<string, unknown> }
  | {
      type: 'OAUTH2_CC';
      token: string;
      expires_at?: string;
      client_id: string;
      client_secret: string;
      raw: Record<string, unknown>;
    }
  | { type: 'API_KEY'; apiKey: string }
  | { type: 'BASIC'; username: string; password: string }
  | {
      type: 'APP';
      access_token?: string;
      expires_at?: string;
      app_id?: string;
      installation_id?: string;
      raw: Record<string, unknown>;
    }
  | { type: 'NONE' };

/** Normalises imported credentials to their stored shape (dates to ISO, `expires_in` to `expires_at`). */
export function toStoredCredentials(c: ImportCredentials, now = Date.now()): StoredCredentials {
  const iso = (v: string | undefined): string | undefined =>
    v === undefined ? undefined : new Date(v).toISOString();
  switch (c.type) {
    case 'OAUTH2': {
      const expiresAt = c.expires_at
        ? iso(c.expires_at)
        : c.expires_in
          ? new Date(now + c.expires_in * 1000).toISOString()
          : undefined;
      return {
        type: 'OAUTH2',
        access_token: c.access_token,
        ...(c.refresh_token ? { refresh_token: c.refresh_token } : {}),
        ...(expiresAt ? { expires_at: expiresAt } : {}),
        raw: c.raw ?? {
          access_token: c.access_token,
          ...(c.refresh_token ? { refresh_token: c.refresh_token } : {}),
        },
        ...(c.config_override ? { config_override: c.config_override } : {}),
      };
    }
    case 'OAUTH1':
      return {
        type: 'OAUTH1',
        oauth_token: c.oauth_token,
        oauth_token_secret: c.oauth_token_secret,
        raw: c.raw ?? {},
      };
    case 'OAUTH2_CC': {
      const expiresAt = iso(c.expires_at);
      return {
        type: 'OAUTH2_CC',
        token: c.token,
        ...(expiresAt ? { expires_at: expiresAt } : {}),
        client_id: c.client_id ?? '',
        client_secret: c.client_secret ?? '',
        raw: c.raw ?? {},
      };
    }
    case 'API_KEY':
      return { type: 'API_KEY', apiKey: c.apiKey };
    case 'BASIC':
      return { type: 'BASIC', username: c.username, password: c.password };
    case 'APP': {
      const expiresAt = iso(c.expires_at);
      return {
        type: 'APP',
        ...(c.access_token ? { access_token: c.access_token } : {}),
        ...(expiresAt ? { expires_at: expiresAt } : {}),
        ...(c.app_id ? { app_id: c.app_id } : {}),
        ...(c.installation_id ? { installation_id: c.installation_id } : {}),
        raw: {},
      };
    }
    case 'NONE':
      return { type: 'NONE' };
  }
}

/** When the credentials expire, if they do. */
export function expiryOf(c: StoredCredentials): string | null {
  return 'expires_at' in c && c.expires_at ? c.expires_at : null;
}

/** The auth modes each credentials type can serve. */
export function fitsAuthMode(type: StoredCredentials['type'], authMode: string): boolean {
  if (type === authMode) return true;
  return type === 'OAUTH2' && (authMode === 'APP' || authMode === 'JWT');
}
