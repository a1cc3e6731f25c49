import type { Writable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { ProxyRequest } from './types.js';

/** The parameters of a form body (an OAuth 1.0a signature covers them), read into memory up to 1 MiB. */
export async function formOf(req: ProxyRequest): Promise<Record<string, string> | undefined> {
  const type = req.headers['content-type'] ?? '';
  if (req.body.empty || !/^application\/x-www-form-urlencoded\b/i.test(type)) return undefined;
  const raw = await req.body.buffer();
  return raw ? Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) : undefined;
}

/** The URL a redirect leads to, if it is http(s). */
export function nextUrl(location: string, current: URL): URL | undefined {
  try {
    const url = new URL(location, current);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

const DECOMPRESSORS: Record<string, () => Writable> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function encodingKey(encoding: unknown): string {
  return typeof encoding === 'string' ? encoding.trim().toLowerCase() : '';
}

/** Whether a `content-encoding` is one the proxy can decompress. */
export function canDecompress(encoding: unknown): boolean {
  return Object.hasOwn(DECOMPRESSORS, encodingKey(encoding));
}

/** A decompressing stream for a `content-encoding` (gzip, deflate, br), or undefined for any other. */
export function decompressorFor(encoding: unknown): Writable | undefined {
  const key = encodingKey(encoding);
  return Object.hasOwn(DECOMPRESSORS, key) ? DECOMPRESSORS[key]?.() : undefined;
}
