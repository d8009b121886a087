// The package as npm publishes it, for the suites that install it into fresh applications: a clean
// clone packed with its lifecycle scripts, installed offline from this repository's node_modules,
// compiled with tsc and started as a child process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { childEnv } from './child-env.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What `nest new` writes into tsconfig.json. */
export const NEST_NEW_COMPILER_OPTIONS = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'ES2023',
  outDir: 'dist',
  rootDir: 'src',
  strict: true,
  isolatedModules: true,
  esModuleInterop: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
} as const;

export const run = promisify(execFile);

type Dependencies = Record<string, string>;

export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly engines?: Record<string, string>;
  readonly main?: string;
  readonly types?: string;
  readonly exports: Record<string, string | Record<string, string>>;
  readonly schematics?: string;
  readonly dependencies?: Dependencies;
  readonly peerDependencies?: Dependencies;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface LockEntry {
  version: string;
  dependencies?: Dependencies;
  optionalDependencies?: Dependencies;
  peerDependencies?: Dependencies;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

export interface PackedTarball {
  readonly path: string;
  readonly integrity: string;
  /** Paths inside the package, as npm lists them. */
  readonly files: readonly string[];
}

/** What a fresh clone holds; its node_modules links to this repository's, as `npm ci` fills it. */
export async function cloneWithoutBuild(repoRoot: string, destination: string): Promise<void> {
  const notInAClone = new Set(['node_modules', 'dist', '.git']);
  await cp(repoRoot, destination, { recursive: true, filter: (source) => !notInAClone.has(relative(repoRoot, source)) });
  await symlink(join(repoRoot, 'node_modules'), join(destination, 'node_modules'), 'dir');
}

/** `npm pack` with its lifecycle scripts, as `npm publish` runs it. */
export async function pack(folder: string, destination: string): Promise<PackedTarball> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: folder,
    env: childEnv(),
    maxBuffer: 2 ** 26,
  });
  const [{ filename, integrity, files }] = JSON.parse(stdout) as [{ filename: string; integrity: string; files: { path: string }[] }];
  return { path: join(destination, filename), integrity, files: files.map((file) => file.path) };
}

export function requiredPeers(manifest: Manifest): string[] {
  return Object.keys(manifest.peerDependencies ?? {}).filter((name) => !manifest.peerDependenciesMeta?.[name]?.optional);
}

/**
 * Installs the tarball and `packages` into `root` with `npm ci`, offline and without the npm cache:
 * each package comes from this repository's node_modules, at the version and place in the tree its
 * lockfile gives it, copied (`--install-links`), so nothing in the repository is linked or touched.
 */
export async function installOffline(
  root: string,
  repoRoot: string,
  tarball: PackedTarball,
  manifest: Manifest,
  packages: readonly string[],
): Promise<void> {
  const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const entries: Record<string, LockEntry> = {};

  // Node's and npm's lookup: the package's own node_modules, then those of the folders above it.
  const locate = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const location = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
      if (lock.packages[location]) return location;
      if (base === '') return undefined;
      const parent = base.lastIndexOf('/node_modules/');
      base = parent < 0 ? '' : base.slice(0, parent);
    }
  };
  const add = (from: string, name: string, required: boolean): void => {
    const location = locate(from, name);
    if (!location) {
      if (required) throw new Error(`${name} (needed by ${from || 'the app'}) is not in the repository's package-lock.json.`);
      return;
    }
    if (entries[location]) return;
    const entry: LockEntry = { ...lock.packages[location], resolved: `file:${join(repoRoot, location)}` };
    // The repository's own dev flags mean nothing here; packing the folder changes the tarball's bytes.
    for (const field of ['dev', 'devOptional', 'peer', 'integrity']) delete entry[field];
    entries[location] = entry;
    for (const dependency of Object.keys(entry.dependencies ?? {})) add(location, dependency, true);
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) add(location, dependency, false);
    for (const [peer] of Object.entries(entry.peerDependencies ?? {})) add(location, peer, !entry.peerDependenciesMeta?.[peer]?.optional);
  };
  for (const name of [...Object.keys(manifest.dependencies ?? {}), ...packages]) add('', name, true);

  const tarballSpec = `file:${relative(root, tarball.path)}`;
  entries[`node_modules/${manifest.name}`] = {
    version: manifest.version,
    resolved: tarballSpec,
    integrity: tarball.integrity,
    license: manifest.license,
    engines: manifest.engines,
    dependencies: manifest.dependencies,
    peerDependencies: manifest.peerDependencies,
    peerDependenciesMeta: manifest.peerDependenciesMeta,
  };
  const dependencies: Dependencies = { [manifest.name]: tarballSpec };
  for (const name of packages) dependencies[name] = lock.packages[`node_modules/${name}`].version;

  const rootPackage = { name: 'packed-apps', version: '0.0.0', dependencies };
  await writeFile(join(root, 'package.json'), JSON.stringify({ ...rootPackage, private: true }, null, 2));
  await writeFile(
    join(root, 'package-lock.json'),
    JSON.stringify({ name: rootPackage.name, version: rootPackage.version, lockfileVersion: 3, requires: true, packages: { '': rootPackage, ...entries } }, null, 2),
  );
  await run('npm', ['ci', '--offline', '--install-links', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: root,
    env: childEnv(),
    timeout: 60_000,
  });
}

/** A clean clone of this repository packed into `work` (kept there as `clone/`), and its manifest. */
export async function packRepository(work: string): Promise<{ manifest: Manifest; tarball: PackedTarball }> {
  const clone = join(work, 'clone');
  await cloneWithoutBuild(REPO_ROOT, clone);
  const manifest = JSON.parse(await readFile(join(clone, 'package.json'), 'utf8')) as Manifest;
  return { manifest, tarball: await pack(clone, work) };
}

/** `tsc -p app` with the compiler at `tsc` (a path under node_modules): its report, empty when it compiled. */
export async function compile(app: string, tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), extraArguments: readonly string[] = []): Promise<string> {
  try {
    await run(process.execPath, [tsc, '-p', app, ...extraArguments], { cwd: app, env: childEnv(), timeout: 90_000 });
    return '';
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    return stdout || String(error);
  }
}

/** Writes `app/package.json` and `app/tsconfig.json` beside what is already in `app`. */
export async function writeApp(app: string, packageFields: Record<string, unknown>, compilerOptions: Record<string, unknown>): Promise<void> {
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, ...packageFields }));
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
}

export interface RunningApp {
  /** `http://127.0.0.1:<port>`, read from Nest's "listening on" line. */
  readonly url: string;
  /** Everything the app wrote so far, stdout and stderr, without colours. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/main.js` in `app`; resolves once it logs that it listens on 127.0.0.1. */
export async function startApp(app: string, env: Record<string, string>): Promise<RunningApp> {
  const child: ChildProcess = spawn(process.execPath, ['dist/main.js'], {
    cwd: app,
    env: childEnv({ NO_COLOR: '1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += stripVTControlCharacters(chunk.toString());
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening) resolve(listening[1]);
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code, signal) => reject(new Error(`The app exited (${code ?? signal}) before listening:\n${output}`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, output: () => output, stop };
}
