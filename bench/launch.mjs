// `npm run bench`: compiles the harness (bench/harness, and the package's src through the
// project's `paths`) with the project's own tsc into a temporary folder, then runs it with plain
// Node. The folder is laid out as the package itself, so that `import 'nestjs-signalr'` in the
// bench servers resolves through the package's self-reference to the freshly compiled src.
// Arguments are passed on: `npm run bench -- --scenarios=invoke --targets=raw-ws,signalr-json`.
// With `--src=<checkout folder or git revision>` the servers run that package instead (the
// harness stays this tree's), so that a change can be measured before and after.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'nestjs-signalr-bench-'));
const cleanUp = () => rmSync(out, { recursive: true, force: true });
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const args = process.argv.slice(2);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
compile(join(root, 'bench', 'tsconfig.json'), out, 'the harness');

let entry = './src/index.js';
const src = args.find((arg) => arg.startsWith('--src='))?.slice('--src='.length) || process.env.BENCH_SRC;
if (src) {
  const underTest = join(out, 'under-test');
  mkdirSync(underTest);
  process.env.BENCH_PACKAGE = fetchSource(src, underTest);
  // The emitted module format follows the nearest package.json, as for the package itself.
  writeFileSync(join(underTest, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(underTest, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: '.', noEmit: false, declaration: false, sourceMap: true, paths: {} },
      include: ['src'],
    }),
  );
  compile(join(underTest, 'tsconfig.json'), join(out, 'package-under-test'), `the package at ${src}`);
  entry = './package-under-test/src/index.js';
}
writeFileSync(join(out, 'package.json'), JSON.stringify({ name: 'nestjs-signalr', private: true, type: 'module', exports: { '.': entry } }));

process.env.BENCH_ROOT = root;
process.env.BENCH_COMMAND = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}` : `node bench/launch.mjs ${args.join(' ')}`.trim();
await import(pathToFileURL(join(out, 'bench', 'harness', 'main.js')).href);

function compile(project, outDir, what) {
  const compiled = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', outDir], { stdio: 'inherit' });
  if (compiled.status !== 0) {
    console.error(`bench: compiling ${what} failed.`);
    process.exit(compiled.status ?? 1);
  }
}

/** Puts the `src` folder of a checkout, or of a git revision of this repository, into `folder`; returns what it is. */
function fetchSource(source, folder) {
  if (existsSync(source) && statSync(source).isDirectory()) {
    cpSync(join(source, 'src'), join(folder, 'src'), { recursive: true });
    if (spawnSync('git', ['rev-parse', '--git-dir'], { cwd: source, stdio: 'ignore' }).status !== 0) return `the folder ${resolve(source)} (not a git checkout)`;
    const head = git(source, 'rev-parse', '--short', 'HEAD');
    const dirty = git(source, 'status', '--porcelain', '--', 'src').trim() !== '';
    return `the checkout in ${resolve(source)} at ${head}${dirty ? ' with uncommitted changes in src/' : ''}`;
  }
  const commit = git(root, 'rev-parse', '--short', '--verify', `${source}^{commit}`);
  const archive = spawnSync('git', ['archive', '--format=tar', commit, 'src'], { cwd: root, maxBuffer: 2 ** 28 });
  const extracted = spawnSync('tar', ['-x', '-C', folder], { input: archive.stdout });
  if (archive.status !== 0 || extracted.status !== 0) {
    console.error(`bench: cannot extract src/ of ${source}.`);
    process.exit(1);
  }
  return `${commit} (--src=${source})`;
}

function git(cwd, ...gitArgs) {
  const result = spawnSync('git', gitArgs, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`bench: git ${gitArgs.join(' ')} in ${cwd} failed: ${result.stderr.trim()}`);
    process.exit(1);
  }
  return result.stdout.trim();
}
