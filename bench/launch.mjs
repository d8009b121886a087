// `npm run bench`: compiles the harness (bench/harness, and the package's src through the
// project's `paths`) with the project's own tsc into a temporary folder, then runs it with plain
// Node. The folder is laid out as the package itself, so that `import 'nestjs-signalr'` in the
// bench servers resolves through the package's self-reference to the freshly compiled src.
// Arguments are passed on: `npm run bench -- --scenarios=invoke --targets=raw-ws,signalr-json`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'nestjs-signalr-bench-'));
const cleanUp = () => rmSync(out, { recursive: true, force: true });
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'bench', 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error('bench: compiling the harness failed.');
  process.exit(compiled.status ?? 1);
}
writeFileSync(
  join(out, 'package.json'),
  JSON.stringify({ name: 'nestjs-signalr', private: true, type: 'module', exports: { '.': './src/index.js' } }),
);
symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');

const args = process.argv.slice(2);
process.env.BENCH_ROOT = root;
process.env.BENCH_COMMAND = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}` : `node bench/launch.mjs ${args.join(' ')}`.trim();
await import(pathToFileURL(join(out, 'bench', 'harness', 'main.js')).href);
