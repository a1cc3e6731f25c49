import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The file name the sandbox bundle is compiled under; its frames are left out of script stacks. */
export const SANDBOX_FILENAME = 'ferry-sandbox.js';

let bundle: Promise<string> | undefined;

function entryPoint(): string {
  // From src/ (tests, tsx) the entry is TypeScript; from dist/ it is the compiled JavaScript.
  for (const name of ['sandbox/entry.ts', 'sandbox/entry.js']) {
    const path = fileURLToPath(new URL(name, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('@ferry/runtime: sandbox/entry not found beside sandboxBundle');
}

/**
 * Bundles the in-isolate code (the `nango` object, globals, polyfills, zod) into one script whose
 * completion value is the `boot` function. Built once per process with esbuild and memoised.
 */
export function sandboxSource(): Promise<string> {
  bundle ??= build({
    entryPoints: [entryPoint()],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: '__ferrySandbox',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  }).then((result) => {
    const text = result.outputFiles[0]?.text;
    if (!text) throw new Error('@ferry/runtime: the sandbox bundle is empty');
    // Strict mode keeps the sandbox's functions and receivers out of reach of `caller` and of
    // Error.prepareStackTrace call sites in a script.
    return `(() => {"use strict";${text}\nreturn __ferrySandbox.boot;})()`;
  });
  return bundle;
}
