/**
 * The processes bench/proxy runs beside Ferry, each on its own:
 *   upstream <port>                 node:http answering 1 KB of JSON (and `/big?mb=N`, a streamed download)
 *   bare <port> <upstream origin>   the smallest proxy possible: node:http + undici `Pool.stream`
 * Each prints `ready` on stdout once it listens.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [, , role, portText, target] = process.argv;
const port = Number(portText);
const json = JSON.stringify({
  items: Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item-${i}`, pad: 'x'.repeat(48) })),
});

if (role === 'upstream') {
  const chunk = Buffer.alloc(64 * 1024, 97);
  createServer((req, res) => {
    if (req.url?.startsWith('/big')) {
      const total = Number(new URL(req.url, 'http://x').searchParams.get('mb') ?? 100) * 1024 * 1024;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  }).listen(port, '127.0.0.1', () => console.log('ready'));
} else if (role === 'bare') {
  const pool = new Pool(target ?? '', { connections: 256 });
  createServer((req, res) => {
    pool
      .stream(
        { method: 'GET', path: req.url ?? '/', headers: { authorization: 'Bearer x' }, opaque: res },
        ({ statusCode, headers, opaque }) => {
          const out = opaque;
          out.writeHead(statusCode, {
            'content-type': String(headers['content-type']),
            'content-length': String(headers['content-length']),
          });
          return out;
        },
      )
      .catch(() => res.destroy());
  }).listen(port, '127.0.0.1', () => console.log('ready'));
} else {
  throw new Error(`unknown role ${String(role)}`);
}
