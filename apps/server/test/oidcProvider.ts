import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** panva's oidc-provider as a real OAuth 2 server, with its own login and consent pages. */
export interface OidcServer {
  url: string;
  /** Serve the next sign-in page with `Cross-Origin-Opener-Policy: same-origin`. */
  coopOnce(): void;
  /**
   * Change the code in the next redirect back to the client, as an attacker's link would; resolves with the
   * redirect URL as the provider meant it.
   */
  tamperNextCode(): Promise<string>;
  /** Answer the next token request with 503, as a provider that is down. */
  tokenDownOnce(): void;
  /** How many interaction pages were sent with COOP. */
  coopServed: number;
  /** Token-endpoint calls by grant type. */
  tokenCalls: Record<string, number>;
  close(): Promise<void>;
}

/** Starts oidc-provider on `host` (e.g. 127.0.0.2) with one confidential client redirecting to `redirectUri`. */
export async function startOidcProvider(host: string, redirectUri: string): Promise<OidcServer> {
  let coop = false;
  let tamper: ((original: string) => void) | undefined;
  let tokenDown = false;
  const state = { coopServed: 0, tokenCalls: {} as Record<string, number> };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(url, {
    clients: [
      {
        client_id: 'ferry',
        client_secret: 'ferry-secret-ferry-secret-ferry-secret',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    cookies: { keys: ['oidc-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    scopes: ['openid', 'offline_access'],
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  });
  provider.on('grant.success', (ctx: { oidc: { params?: Record<string, unknown> } }) => {
    const grant = ctx.oidc.params?.grant_type;
    const name = typeof grant === 'string' ? grant : '?';
    state.tokenCalls[name] = (state.tokenCalls[name] ?? 0) + 1;
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (coop && req.method === 'GET' && req.url?.startsWith('/interaction/')) {
      coop = false;
      state.coopServed += 1;
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    }
    if (tokenDown && req.method === 'POST' && req.url?.startsWith('/token')) {
      tokenDown = false;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
      return;
    }
    if (tamper) {
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name, value) => {
        if (
          tamper &&
          name.toLowerCase() === 'location' &&
          typeof value === 'string' &&
          value.startsWith(redirectUri)
        ) {
          const url = new URL(value);
          url.searchParams.set('code', `${url.searchParams.get('code')}x`);
          tamper(value);
          tamper = undefined;
          return setHeader(name, url.toString());
        }
        return setHeader(name, value);
      };
    }
    void callback(req, res);
  });
  return {
    url,
    tokenDownOnce: () => {
      tokenDown = true;
    },
    tamperNextCode: () => new Promise((resolve) => (tamper = resolve)),
    coopOnce: () => {
      coop = true;
    },
    get coopServed() {
      return state.coopServed;
    },
    tokenCalls: state.tokenCalls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
