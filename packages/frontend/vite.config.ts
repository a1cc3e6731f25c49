import { defineConfig } from 'vite';
import dts from 'vite-plugin-dts';

// ESM for browsers, no dependencies, minified; declarations beside it.
export default defineConfig({
  plugins: [dts({ tsconfigPath: './tsconfig.build.json' })],
  build: {
    target: 'es2022',
    minify: true,
    sourcemap: true,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' },
  },
});
