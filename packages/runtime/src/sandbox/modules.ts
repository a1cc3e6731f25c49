import { sandboxError } from './errors.js';
import { loadUrl } from './globals.js';

/** The modules a script may `require`: url, crypto and zod (bundled), with or without `node:`. */
export function createRequire(loadCrypto: () => unknown): (name: string) => unknown {
  const cache = new Map<string, unknown>();
  const loaders: Record<string, () => unknown> = {
    url: loadUrl,
    crypto: loadCrypto,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    zod: () => require('zod') as unknown,
  };
  return (name: string): unknown => {
    const key = String(name).replace(/^node:/, '');
    const load = Object.hasOwn(loaders, key) ? loaders[key] : undefined;
    if (!load)
      throw sandboxError(
        'module_not_allowed',
        `Module "${String(name)}" is not allowed: scripts may require url, crypto and zod only`,
      );
    if (!cache.has(key)) cache.set(key, load());
    return cache.get(key);
  };
}
