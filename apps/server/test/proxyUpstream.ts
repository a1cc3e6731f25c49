import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One request the fake provider API received. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** When it arrived (`Date.now()`). */
  at: number;
  /** The rate-limit headers answered to it (`/github-limit`, `/retry-after`), so a test can check the wait. */
  limitHeaders?: Record<string, string>;
}

/** A fake provider API over real HTTP on 127.0.0.1, with the behaviours the proxy must handle. */
export interface ProxyUpstream {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** Requests seen for a path (query ignored). */
  hits(path: string): SeenRequest[];
  /** Which tokens `/protected` accepts (`Bearer <token>`). */
  accepts: { token: (token: string) => boolean };
  close(): Promise<void>;
}

const KB_JSON = JSON.stringify({
  items: Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item-${i}`, pad: 'x'.repeat(48) })),
});

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Starts the fake API. Failures are counted per `key` query parameter, so tests do not share state:
 * `/flaky?key=k&fail=2` fails twice with 502 then answers; `/github-limit?key=k` answers 403 with
 * `x-ratelimit-remaining: 0` and a reset `ahead` (default 1) seconds ahead once; `/retry-after?key=k&form=seconds|date|long`.
 */
export async function startProxyUpstream(): Promise<ProxyUpstream> {
  const seen: SeenRequest[] = [];
  const counts = new Map<string, number>();
  const accepts = { token: (token: string) => token.startsWith('access-') };
  const bump = (key: string): number => {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  };
  let self = '';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL((req.url ?? '/').replace(/^\/v1(?=\/)/, ''), 'http://x');
    const entry: SeenRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      at: Date.now(),
    };
    seen.push(entry);
    const key = `${url.pathname}:${url.searchParams.get('key') ?? ''}`;
    const q = (name: string) => url.searchParams.get(name);
    switch (url.pathname) {
      case '/json':
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(KB_JSON),
        });
        res.end(KB_JSON);
        return;
      case '/echo': {
        const body = await readAll(req);
        json(res, 200, {
          method: req.method,
          url: req.url,
          headers: req.headers,
          body_length: body.length,
          body_sha256: createHash('sha256').update(body).digest('hex'),
          body_text: body.length <= 4096 ? body.toString('utf8') : null,
        });
        return;
      }
      case '/flaky': {
        const n = bump(key);
        if (n <= Number(q('fail') ?? 1))
          json(res, Number(q('status') ?? 502), { error: 'flaky', attempt: n });
        else json(res, 200, { ok: true, attempt: n });
        return;
      }
      case '/github-limit': {
        const n = bump(key);
        if (n === 1) {
          entry.limitHeaders = {
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + Number(q('ahead') ?? 1)),
          };
          json(res, 403, { message: 'API rate limit exceeded' }, entry.limitHeaders);
        } else json(res, 200, { ok: true, attempt: n }, { 'x-ratelimit-remaining': '4999' });
        return;
      }
      case '/retry-after': {
        const n = bump(key);
        const form = q('form');
        if (form === 'long') {
          entry.limitHeaders = { 'retry-after': '3600' };
          json(res, 429, { error: 'slow down' }, entry.limitHeaders);
          return;
        }
        if (n === 1) {
          const value = form === 'date' ? new Date(Date.now() + 1500).toUTCString() : '1';
          entry.limitHeaders = { 'retry-after': value };
          json(res, form === 'date' ? 503 : 429, { error: 'slow down' }, entry.limitHeaders);
        } else json(res, 200, { ok: true, attempt: n });
        return;
      }
      case '/slow':
        await new Promise((r) => setTimeout(r, Number(q('ms') ?? 1000)));
        json(res, 200, { ok: true });
        return;
      case '/gzip': {
        const body = gzipSync(Buffer.from(JSON.stringify({ compressed: true, items: KB_JSON })));
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': body.length,
        });
        res.end(body);
        return;
      }
      case '/big': {
        const total = Number(q('mb') ?? 100) * 1024 * 1024;
        const chunk = Buffer.alloc(64 * 1024, 97);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
            sent += part.length;
            if (!res.write(part)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      case '/redirect':
        res.writeHead(Number(q('status') ?? 302), { location: q('to') ?? '/json' });
        res.end();
        return;
      case '/protected': {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (token && accepts.token(token)) json(res, 200, { ok: true, token });
        else json(res, 401, { message: 'Bad credentials' }, { 'www-authenticate': 'Bearer' });
        return;
      }
      case '/link': {
        // Three pages of two items; the second page is rate limited once (Retry-After: 1).
        const page = Number(q('page') ?? 1);
        if (page === 2 && bump(`link-limit:${q('key') ?? ''}`) === 1) {
          json(res, 429, { error: 'rate limited' }, { 'retry-after': '1' });
          return;
        }
        const next =
          page < 3 ? `<${self}/link?page=${page + 1}&key=${q('key') ?? ''}>; rel="next"` : undefined;
        json(res, 200, { items: [{ id: `l${page}a` }, { id: `l${page}b` }] }, next ? { link: next } : {});
        return;
      }
      case '/cursor': {
        const cursor = Number(q('cursor') ?? 0);
        if (cursor === 1 && bump(`cursor-limit:${q('key') ?? ''}`) === 1) {
          json(
            res,
            403,
            { message: 'rate limited' },
            {
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
            },
          );
          return;
        }
        json(res, 200, {
          data: { records: [{ id: `c${cursor}` }] },
          next_cursor: cursor < 2 ? String(cursor + 1) : '',
        });
        return;
      }
      default:
        json(res, 404, { error: 'not found' });
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    port,
    seen,
    hits: (path) => seen.filter((s) => s.url.split('?')[0] === path),
    accepts,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Writes a providers YAML with fake providers whose proxy points at `upstream`. */
export function proxyProvidersFile(
  upstream: string,
  oauth: string,
  extraBases: Record<string, string> = {},
): string {
  const common = ['  docs: https://example.com/docs', '  categories: [dev-tools]'];
  const lines = [
    'fake-api:',
    '  display_name: Fake API',
    '  auth_mode: OAUTH2',
    `  authorization_url: ${oauth}/authorize`,
    `  token_url: ${oauth}/token`,
    ...common,
    '  proxy:',
    `    base_url: ${upstream}`,
    '    headers:',
    "      x-api-version: '2024-01-01'",
    '    retry:',
    '      at: x-ratelimit-reset',
    '      remaining: x-ratelimit-remaining',
    '    paginate:',
    '      type: link',
    '      link_rel_in_response_header: next',
    '      response_path: items',
    'fake-key:',
    '  display_name: Fake API key',
    '  auth_mode: API_KEY',
    ...common,
    '  proxy:',
    `    base_url: ${upstream}/v1 || ${upstream}`,
    '    headers:',
    '      x-api-key: ${apiKey}',
    '    query:',
    '      api_key: ${apiKey}',
    'fake-basic:',
    '  display_name: Fake Basic',
    '  auth_mode: BASIC',
    ...common,
    '  proxy:',
    '    base_url: ${connectionConfig.base}',
    'fake-oauth1:',
    '  display_name: Fake OAuth1',
    '  auth_mode: OAUTH1',
    `  request_url: ${oauth}/request`,
    `  authorization_url: ${oauth}/authorize`,
    `  token_url: ${oauth}/token`,
    '  signature_method: HMAC-SHA1',
    ...common,
    '  proxy:',
    `    base_url: ${upstream}`,
    ...Object.entries(extraBases).flatMap(([name, base]) => [
      `${name}:`,
      `  display_name: ${name}`,
      '  auth_mode: API_KEY',
      ...common,
      '  proxy:',
      `    base_url: ${base}`,
      '    headers:',
      '      authorization: Bearer ${apiKey}',
    ]),
    '',
  ];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-proxy-'));
  const file = join(dir, 'providers.yaml');
  writeFileSync(file, lines.join('\n'));
  return file;
}
