// Checks the size budget of the built SDK (≤ 5 KB gzip) and prints it next to @nangohq/frontend's, bundled and
// minified the same way. Exits 1 over budget. Run after `vite build`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const BUDGET = 5 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gz = (code) => gzipSync(code, { level: 9 }).length;

const ours = readFileSync(join(root, 'dist/index.js'));
const lines = [`@ferry/frontend: ${ours.length} B minified, ${gz(ours)} B gzip (budget ${BUDGET} B)`];

try {
  const require = createRequire(join(root, 'package.json'));
  const entry = join(dirname(require.resolve('@nangohq/frontend/package.json')), 'dist/index.js');
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry, formats: ['es'], fileName: 'nango' },
    },
  });
  const chunk = (Array.isArray(out) ? out[0] : out).output.find((o) => o.type === 'chunk');
  lines.push(
    `@nangohq/frontend@0.71.10: ${chunk.code.length} B minified, ${gz(chunk.code)} B gzip (same bundler)`,
  );
} catch (err) {
  lines.push(`@nangohq/frontend: not measured (${err.message})`);
}
console.log(lines.join('\n'));
if (gz(ours) > BUDGET) {
  console.error(`FAIL: @ferry/frontend is over its ${BUDGET} B gzip budget`);
  process.exit(1);
}
