import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Exact matches: a prefix alias would also rewrite the package's subpaths.
    alias: [
      { find: /^nestjs-signalr$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^nestjs-signalr\/client$/, replacement: fileURLToPath(new URL('./src/client-extension/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.spec.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
