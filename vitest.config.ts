import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The suites that build and run C# programs need the .NET SDK. Without it, outside CI, they are
 * left out of the run, loudly (a file that defines no tests would fail); under `CI=true` they
 * stay in and fail.
 */
function suitesNeedingDotnet(): string[] {
  if (process.env.CI === 'true' || spawnSync('dotnet', ['--version'], { stdio: 'ignore' }).status === 0) return [];
  process.stderr.write('\n*** WARNING: dotnet is not on PATH: the .NET suites (test/dotnet, test/reference) do not run. ***\n\n');
  return ['test/dotnet/**', 'test/reference/**'];
}

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
    exclude: [...configDefaults.exclude, ...suitesNeedingDotnet()],
    setupFiles: ['test/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
