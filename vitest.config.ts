import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string): string =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Workspace packages resolve to their sources in tests, so `pnpm test` needs no build first.
const alias = {
  '@ferry/types': src('types'),
  '@ferry/providers': src('providers'),
  '@ferry/node': src('node'),
  '@ferry/runtime': src('runtime'),
  '@ferry/frontend': src('frontend'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-results.json' },
    projects: [
      { extends: true, test: { name: 'types', root: 'packages/types' } },
      { extends: true, test: { name: 'providers', root: 'packages/providers' } },
      { extends: true, test: { name: 'node', root: 'packages/node' } },
      { extends: true, test: { name: 'frontend', root: 'packages/frontend' } },
      {
        extends: true,
        test: {
          name: 'runtime',
          root: 'packages/runtime',
          execArgv: ['--no-node-snapshot'],
          testTimeout: 30000,
        },
      },
      {
        // Nango's own CLI against a served Ferry: slow (each deploy compiles), so in its own project.
        extends: true,
        test: {
          name: 'e2e-nango',
          root: 'packages/e2e',
          // After every other project: its compiles take whole cores, which would slow timing-sensitive suites.
          sequence: { groupOrder: 1 },
          execArgv: ['--no-node-snapshot'],
          testTimeout: 120000,
          hookTimeout: 120000,
        },
      },
      {
        extends: true,
        test: {
          name: 'server',
          root: 'apps/server',
          execArgv: ['--no-node-snapshot'],
          testTimeout: 30000,
          hookTimeout: 30000,
        },
      },
    ],
  },
});
