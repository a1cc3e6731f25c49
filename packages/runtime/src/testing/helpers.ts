import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import type { RunKind, RunRequest, Runtime } from '../types.js';
import { FakeHost, testContext } from './fakeHost.js';

/**
 * A CommonJS bundle whose default export (and webhook handler, so `kind: 'webhook'` gives a NangoSync
 * whose return value is kept) runs `body` as an async function of (nango, input).
 */
export function script(body: string): string {
  return `"use strict";\nmodule.exports.default = async function run(nango, input) {\n${body}\n};\nmodule.exports.onWebhookPayloadReceived = module.exports.default;\n`;
}

/** Runs `body` as a script of `kind` against a fresh {@link FakeHost}. */
export async function runBody(
  runtime: Runtime,
  body: string,
  options: Partial<Omit<RunRequest, 'code'>> & { kind?: RunKind } = {},
): Promise<Awaited<ReturnType<Runtime['run']>> & { host: FakeHost }> {
  const host = (options.host as FakeHost | undefined) ?? new FakeHost();
  const result = await runtime.run({
    kind: 'action',
    context: testContext,
    ...options,
    host,
    code: script(body),
  });
  return { ...result, host };
}

let gc: (() => void) | undefined;
/** The host's garbage collector (exposed for tests through V8 flags). */
export function hostGc(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}
