// The package's declarations as every consumer finds them: the packed tarball, installed offline,
// type-checked by TypeScript 5, 6 and 7 under each module resolution a tsconfig can name, and
// checked by @arethetypeswrong/cli, the community's checker of what each resolver sees.
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.js';
import { compile, installOffline, packRepository, REPO_ROOT, requiredPeers, run, writeApp, type PackedTarball } from '../support/packed-package.js';

const fixtures = ['./fixture-app/', './types-fixture/'].map((folder) => fileURLToPath(new URL(folder, import.meta.url)));

/** Each compiler the suite runs, by the dev dependency that installs it (aliases: typescript5, typescript7). */
const COMPILERS = { 'TypeScript 5': 'typescript5', 'TypeScript 6': 'typescript', 'TypeScript 7': 'typescript7' } as const;
type Compiler = keyof typeof COMPILERS;

const COMMON_OPTIONS = { target: 'ES2022', strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, skipLibCheck: true, noEmit: true, types: ['node'] };

/**
 * A consumer per resolution: `node10` (CommonJS tsconfigs of old, `moduleResolution: node`), which
 * reads `types` and `typesVersions`; `node16` and `nodenext`, which read `exports`, from an ES
 * module and, for nodenext, from CommonJS (require(esm)); `bundler`.
 */
const RESOLUTIONS = {
  node10: { packageType: {}, compilerOptions: { module: 'commonjs', moduleResolution: 'node10' } },
  node16: { packageType: { type: 'module' }, compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
  'nodenext (ESM)': { packageType: { type: 'module' }, compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  'nodenext (CommonJS)': { packageType: {}, compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  bundler: { packageType: { type: 'module' }, compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
} as const;
type Resolution = keyof typeof RESOLUTIONS;

// TypeScript 6 deprecates node10 (an error unless silenced) and 7 removed it: that cell is theirs to refuse.
const CELLS = (Object.keys(COMPILERS) as Compiler[]).flatMap((compiler) =>
  (Object.keys(RESOLUTIONS) as Resolution[]).filter((resolution) => !(compiler === 'TypeScript 7' && resolution === 'node10')).map((resolution) => ({ compiler, resolution })),
);

let work: string;
let tarball: PackedTarball;
/** tsc's report per cell: empty when it type-checked. */
const reports = new Map<string, string>();
const cellName = ({ compiler, resolution }: (typeof CELLS)[number]) => `${compiler}, ${resolution}`;

/** Runs `tasks` at most `concurrency` at a time; their results in order. */
async function inTurns<T>(tasks: readonly (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

describe('the packed package type-checks for every compiler and module resolution', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-signalr-types-'));
    const packed = await packRepository(work);
    tarball = packed.tarball;
    const apps = join(work, 'apps');
    await mkdir(apps);
    await installOffline(apps, REPO_ROOT, tarball, packed.manifest, [...requiredPeers(packed.manifest), '@microsoft/signalr', '@types/node']);

    const checks = CELLS.map(({ compiler, resolution }) => async () => {
      const app = join(apps, `${COMPILERS[compiler]}-${resolution.replace(/\W+/g, '-')}`);
      for (const fixture of fixtures) await cp(fixture, app, { recursive: true });
      const { packageType, compilerOptions } = RESOLUTIONS[resolution];
      const silenced = compiler === 'TypeScript 6' && resolution === 'node10' ? { ignoreDeprecations: '6.0' } : {};
      await writeApp(app, packageType, { ...COMMON_OPTIONS, ...compilerOptions, ...silenced });
      return compile(app, join(REPO_ROOT, 'node_modules', COMPILERS[compiler], 'bin/tsc'));
    });
    // Two at a time: the machine has two cores.
    (await inTurns(checks, 2)).forEach((report, index) => reports.set(cellName(CELLS[index]), report));
  }, 240_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each(CELLS)('$compiler, $resolution', (cell) => {
    expect(reports.get(cellName(cell))).toBe('');
  });

  it('passes @arethetypeswrong/cli, but for the CommonJS side of node16: the package is ESM only, which Node 20.19+ requires as is', async () => {
    const attw = join(REPO_ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const { stdout } = await run(process.execPath, [attw, tarball.path, '--format', 'json'], { cwd: work, env: childEnv(), timeout: 60_000 }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
    );
    const { analysis } = JSON.parse(stdout) as { analysis: { problems: { kind: string; entrypoint: string; resolutionKind: string }[] } };
    expect(analysis.problems).toEqual([
      { kind: 'CJSResolvesToESM', entrypoint: '.', resolutionKind: 'node16-cjs' },
      { kind: 'CJSResolvesToESM', entrypoint: './client', resolutionKind: 'node16-cjs' },
    ]);
  }, 60_000);
});
