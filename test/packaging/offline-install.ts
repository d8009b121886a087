import { execFile } from 'node:child_process';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { childEnv } from '../support/child-env.js';

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
