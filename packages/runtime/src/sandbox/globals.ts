import type { Bridge } from './bridge.js';
import { loadBuffer } from './buffer.js';
import { formatArgs } from './format.js';
import { createTimers } from './timers.js';

const g = globalThis as unknown as Record<string, unknown>;

function define(name: string, value: unknown): void {
  Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
}

/** Defines a global evaluated on first read, so unused polyfills cost nothing. */
function lazy(name: string, load: () => unknown): void {
  Object.defineProperty(g, name, {
    configurable: true,
    enumerable: false,
    get: () => {
      const value = load();
      define(name, value);
      return value;
    },
    set: (value: unknown) => define(name, value),
  });
}

interface UrlModule {
  URL: unknown;
  URLSearchParams: unknown;
}
let url: UrlModule | undefined;
/** whatwg-url, evaluated on first use. */
export function loadUrl(): UrlModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  url ??= require('whatwg-url') as UrlModule;
  return url;
}

let text: { TextEncoder: unknown; TextDecoder: unknown } | undefined;
function loadText(): { TextEncoder: unknown; TextDecoder: unknown } {
  // fast-text-encoding installs itself on `this`, which esbuild makes the module's exports.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  text ??= require('fast-text-encoding') as { TextEncoder: unknown; TextDecoder: unknown };
  return text;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function btoa(input: unknown): string {
  const s = String(input);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw new Error('InvalidCharacterError: Invalid character');
  }
  return loadBuffer().from(s, 'latin1').toString('base64');
}

function atob(input: unknown): string {
  const s = String(input).replace(/[\t\n\f\r ]/g, '');
  if (!BASE64.test(s) || s.length % 4 === 1)
    throw new Error('InvalidCharacterError: The string to be decoded is not correctly encoded.');
  return loadBuffer().from(s, 'base64').toString('latin1');
}

/**
 * Installs what a script may use on this context's global object, and removes what it may not
 * (SharedArrayBuffer, Atomics, WebAssembly, and V8's `gc` when the process exposes it).
 */
export function installGlobals(
  bridge: Bridge,
  loadCrypto: () => unknown,
  onUncaught: (error: unknown) => void,
): void {
  for (const name of ['SharedArrayBuffer', 'Atomics', 'WebAssembly', 'gc']) Reflect.deleteProperty(g, name);
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]): void =>
      bridge.log(level, formatArgs(args));
  define('console', {
    log: log('info'),
    info: log('info'),
    debug: log('debug'),
    trace: log('debug'),
    warn: log('warn'),
    error: log('error'),
  });
  for (const [name, fn] of Object.entries(createTimers(bridge, onUncaught))) define(name, fn);
  define('queueMicrotask', (fn: () => void) => void Promise.resolve().then(fn));
  define('atob', atob);
  define('btoa', btoa);
  lazy('crypto', loadCrypto);
  lazy('Buffer', loadBuffer);
  lazy('TextEncoder', () => loadText().TextEncoder);
  lazy('TextDecoder', () => loadText().TextDecoder);
  lazy('URL', () => loadUrl().URL);
  lazy('URLSearchParams', () => loadUrl().URLSearchParams);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  lazy('structuredClone', () => (require('@ungap/structured-clone') as { default: unknown }).default);
}
