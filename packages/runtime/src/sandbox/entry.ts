import { Bridge } from './bridge.js';
import { sandboxError } from './errors.js';
import { installGlobals } from './globals.js';
import type { BootEnv, BootResult, HostReference } from './ivm.js';
import { createRequire } from './modules.js';
import { NangoAction } from './nango.js';
import { NangoSync } from './nangoSync.js';
import { serializeError, serializeOutput } from './outcome.js';

type Wrapper = (
  exports: unknown,
  require: unknown,
  module: unknown,
  filename: string,
  dirname: string,
) => void;
type Entry = (nango: NangoAction, input?: unknown) => unknown;

function entryPoint(exports: unknown, kind: BootEnv['kind']): Entry {
  const mod = exports as Record<string, unknown> | Entry;
  const def: unknown = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : mod;
  const obj = typeof def === 'object' && def !== null ? (def as Record<string, unknown>) : undefined;
  const bind = (owner: unknown, name: string): Entry | undefined => {
    const fn = (owner as Record<string, unknown> | undefined)?.[name];
    return typeof fn === 'function' ? (fn.bind(owner) as Entry) : undefined;
  };
  let found: Entry | undefined;
  if (kind === 'webhook') {
    found =
      bind(mod, 'onWebhookPayloadReceived') ??
      bind(obj, 'onWebhook') ??
      bind(obj, 'onWebhookPayloadReceived');
  } else {
    found = typeof def === 'function' ? (def as Entry) : bind(obj, 'exec');
  }
  if (!found) {
    const what = kind === 'webhook' ? 'onWebhookPayloadReceived or onWebhook' : 'default function or exec';
    throw sandboxError('invalid_script', `The script exports no ${what} to run as ${kind}`);
  }
  return found;
}

/**
 * Runs one script in this (fresh) context: installs the globals, evaluates the CommonJS bundle, calls
 * its entry point for `env.kind` with the `nango` object, and returns the outcome as plain data.
 * @param host - the Reference to the host dispatcher (kept in this closure only)
 * @param wrapper - the bundle, compiled as `(function (exports, require, module, __filename, __dirname) {…})`
 */
export async function boot(host: HostReference, wrapper: Wrapper, env: BootEnv): Promise<BootResult> {
  const bridge = new Bridge(host, env.limits);
  let crypto: unknown;
  const loadCrypto = (): unknown =>
    // Required lazily: the hash implementations cost more to evaluate than most scripts need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (crypto ??= (require('./crypto.js') as typeof import('./crypto.js')).cryptoModule(env.seed));
  let uncaught: { error: unknown } | undefined;
  installGlobals(bridge, loadCrypto, (error) => (uncaught ??= { error }));
  try {
    const module = { exports: {} as unknown };
    wrapper.call(module.exports, module.exports, createRequire(loadCrypto), module, '/script.js', '/');
    const run = entryPoint(module.exports, env.kind);
    const nango =
      env.kind === 'action' || env.kind === 'onEvent'
        ? new NangoAction(bridge, env)
        : new NangoSync(bridge, env);
    const result = await (env.kind === 'sync' || env.kind === 'onEvent' ? run(nango) : run(nango, env.input));
    if (bridge.fatal) throw bridge.fatal;
    if (uncaught) throw uncaught.error;
    const output =
      env.kind === 'action' || env.kind === 'webhook' ? serializeOutput(result, env.limits) : undefined;
    return { ok: true, output, logs: bridge.takeLines() };
  } catch (thrown) {
    let error: BootResult['error'];
    try {
      error = serializeError(bridge.fatal ?? thrown, env.kind, env.limits.maxErrorBytes);
    } catch {
      // A thrown value whose message or stack getter throws again.
      error = { code: 'script_runtime_error', message: 'The script threw a value that cannot be read' };
    }
    return { ok: false, error, logs: bridge.takeLines() };
  }
}
