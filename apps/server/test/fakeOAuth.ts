import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request the fake token endpoint received. */
export interface TokenCall {
  params: Record<string, string>;
  authorization: string | undefined;
}

/** How the fake token endpoint answers the next calls. */
export interface FakeBehaviour {
  /** Include a new refresh token in refresh responses (default true). */
  rotateRefreshToken: boolean;
  /** Answer with this HTTP status and an OAuth error instead of tokens. */
  failWith?: number;
  /** The `error_description` of that error (default "refresh token revoked"). */
  errorDescription?: string;
  /** Delay each answer (ms). */
  delayMs: number;
  expiresIn: number;
}

/** A local OAuth token endpoint over real HTTP on 127.0.0.1, counting the calls it gets. */
export interface FakeOAuth {
  url: string;
  calls: TokenCall[];
  behaviour: FakeBehaviour;
  /** A providers YAML overriding the catalog with `fake-oauth` (body auth) and `fake-oauth-basic` (HTTP Basic). */
  providersFile: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the fake token endpoint. */
export async function startFakeOAuth(): Promise<FakeOAuth> {
  const calls: TokenCall[] = [];
  const behaviour: FakeBehaviour = { rotateRefreshToken: true, delayMs: 0, expiresIn: 3600 };
  let n = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const params = Object.fromEntries(new URLSearchParams(body));
      calls.push({ params, authorization: req.headers.authorization });
      if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
      res.setHeader('content-type', 'application/json');
      if (behaviour.failWith) {
        res.statusCode = behaviour.failWith;
        res.end(
          JSON.stringify({
            error: 'invalid_grant',
            error_description: behaviour.errorDescription ?? 'refresh token revoked',
          }),
        );
        return;
      }
      n++;
      const grant = params.grant_type;
      res.end(
        JSON.stringify({
          access_token: `access-${n}`,
          token_type: 'bearer',
          expires_in: behaviour.expiresIn,
          ...(grant === 'refresh_token' && behaviour.rotateRefreshToken
            ? { refresh_token: `refresh-${n}` }
            : {}),
        }),
      );
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-fake-oauth-'));
  const providersFile = join(dir, 'providers.yaml');
  writeFileSync(
    providersFile,
    [
      'fake-oauth:',
      '  display_name: Fake OAuth',
      '  auth_mode: OAUTH2',
      `  authorization_url: ${url}/authorize`,
      `  token_url: ${url}/token`,
      '  docs: https://example.com/docs',
      '  categories: [dev-tools]',
      'fake-oauth-basic:',
      '  display_name: Fake OAuth (Basic client auth)',
      '  auth_mode: OAUTH2',
      `  authorization_url: ${url}/authorize`,
      `  token_url: ${url}/token`,
      '  token_request_auth_method: basic',
      '  token_expiration_buffer: 60',
      '  docs: https://example.com/docs',
      '  categories: [dev-tools]',
      'fake-oauth-params:',
      '  display_name: Fake OAuth (refresh params)',
      '  auth_mode: OAUTH2',
      `  authorization_url: ${url}/authorize`,
      `  token_url: ${url}/token`,
      '  refresh_params:',
      '    audience: ${connectionConfig.audience}',
      '    dropped: ${connectionConfig.missing}',
      '  docs: https://example.com/docs',
      '  categories: [dev-tools]',
      '',
    ].join('\n'),
  );
  return {
    url,
    calls,
    behaviour,
    providersFile,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
