// The package as npm publishes it: a clean clone (no dist) is packed with its lifecycle scripts,
// the tarball installed offline beside Nest into a fresh folder, and one small application
// (fixture-app/) compiled with tsc twice, as an ES module and as CommonJS, started, and
// reached by the official @microsoft/signalr client over JSON and MessagePack.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.js';
import { ClientPool, nextCall, WIRE_PROTOCOLS } from '../support/client.js';
import {
  compile,
  installOffline,
  NEST_NEW_COMPILER_OPTIONS,
  packRepository,
  REPO_ROOT,
  requiredPeers,
  run,
  startApp,
  writeApp,
  type Manifest,
  type PackedTarball,
} from '../support/packed-package.js';

const fixture = fileURLToPath(new URL('./fixture-app/', import.meta.url));

// Beside the package's required peers: the app's HTTP platform and Node's types, as any Nest app has.
const APP_PACKAGES = ['@nestjs/platform-express', '@types/node'];

// Nest 12's ESM app, with skipLibCheck off so that the package's declarations are checked too (once:
// that doubles tsc's time); and Nest 11's CommonJS template (no "type"), which loads Nest 12 and
// this package, both ESM only, through require(esm): Node has it without a flag from 20.19.
const APP_KINDS = {
  esm: {
    packageType: { type: 'module' },
    compilerOptions: { ...NEST_NEW_COMPILER_OPTIONS, skipLibCheck: false },
    loadsThePackageWith: "import { SignalRAdapter } from 'nestjs-signalr';",
  },
  cjs: { packageType: {}, compilerOptions: NEST_NEW_COMPILER_OPTIONS, loadsThePackageWith: 'require("nestjs-signalr")' },
} as const;
type AppKind = keyof typeof APP_KINDS;

let work: string;
let apps: string;
let manifest: Manifest;
let tarball: PackedTarball;
/** tsc's report per app: empty when it compiled. */
const compiled = new Map<AppKind, Promise<string>>();

/** Files under `folder`, relative to it, with `/` separators. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(folder, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

describe('the packed package, installed into fresh Nest apps', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-signalr-packed-'));
    apps = join(work, 'apps');
    ({ manifest, tarball } = await packRepository(work));

    await mkdir(apps);
    await installOffline(apps, REPO_ROOT, tarball, manifest, [...requiredPeers(manifest), ...APP_PACKAGES]);
    for (const [kind, { packageType, compilerOptions }] of Object.entries(APP_KINDS) as [AppKind, (typeof APP_KINDS)[AppKind]][]) {
      const app = join(apps, kind);
      await cp(fixture, app, { recursive: true });
      await writeApp(app, packageType, compilerOptions);
      compiled.set(kind, compile(app));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(compiled.values());
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs the library compiled from src/ (code and declarations) and the schematics, nothing else', async () => {
    const sources = (await filesUnder(join(REPO_ROOT, 'src'))).filter((file) => file.endsWith('.ts'));
    const compiledLibrary = sources.flatMap((file) => [`dist/src/${file.replace(/\.ts$/, '.js')}`, `dist/src/${file.replace(/\.ts$/, '.d.ts')}`]);
    const schematics = (await filesUnder(join(REPO_ROOT, 'schematics'))).map((file) => `schematics/${file}`);
    expect(tarball.files.toSorted()).toEqual([...compiledLibrary, ...schematics, 'LICENSE', 'README.md', 'package.json'].toSorted());

    const entryPoints = [
      manifest.main,
      manifest.types,
      manifest.schematics,
      ...Object.values(manifest.exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
    ];
    for (const entryPoint of entryPoints) expect(tarball.files).toContain(entryPoint?.replace(/^\.\//, ''));
  });

  it('installs offline with the peers it requires satisfied, none of its optional peers, and its subpaths resolving', async () => {
    // npm ls fails on a missing or out-of-range peer or dependency.
    await run('npm', ['ls', '--all', '--offline'], { cwd: apps, env: childEnv() });
    const optionalPeers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !requiredPeers(manifest).includes(name));
    expect(optionalPeers).toEqual(expect.arrayContaining(['passport', '@nestjs/passport', 'class-validator', 'class-transformer']));
    for (const name of optionalPeers) expect(existsSync(join(apps, 'node_modules', name))).toBe(false);

    const installed = join(apps, 'node_modules', manifest.name);
    const resolveFromApp = createRequire(join(apps, 'cjs', 'package.json')).resolve;
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const file = typeof target === 'string' ? target : target.default;
      expect(resolveFromApp(join(manifest.name, subpath))).toBe(join(installed, file));
    }
  });

  describe.each(Object.keys(APP_KINDS) as AppKind[])('%s app', (kind) => {
    it('compiles with tsc, starts on 127.0.0.1 and serves the official client over JSON and MessagePack', async () => {
      const app = join(apps, kind);
      expect(await compiled.get(kind)).toBe('');
      expect(await readFile(join(app, 'dist/main.js'), 'utf8')).toContain(APP_KINDS[kind].loadsThePackageWith);

      const running = await startApp(app, { NODE_ENV: 'production', SIGNALR_KEY: randomBytes(32).toString('base64') });
      try {
        for (const protocol of WIRE_PROTOCOLS) {
          const clients = new ClientPool(protocol);
          try {
            const connection = await clients.connect(`${running.url}/hubs/echo`);
            expect(await connection.invoke('Echo', `hello over ${protocol}`)).toBe(`hello over ${protocol}`);
            await expect(connection.invoke('Echo', 42)).rejects.toThrow('Text expected.');
            const shouted = nextCall(connection, 'Shouted');
            await connection.invoke('Shout', 'hi');
            expect(await shouted).toEqual(['HI']);
          } finally {
            await clients.stopAll();
          }
        }
      } finally {
        await running.stop();
      }
    }, 60_000);
  });
});
