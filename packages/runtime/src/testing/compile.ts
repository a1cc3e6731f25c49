import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Bundles a fixture as the CLI does: one CommonJS file, platform node, inline source map, zod external. */
export async function compileFixture(name: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../__fixtures__/${name}.ts`, import.meta.url))],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    external: ['zod'],
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]?.text;
  if (!text) throw new Error(`empty bundle for ${name}`);
  return text;
}
