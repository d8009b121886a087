// End to end, as a user would run it: the package is packed (what npm would publish, with no
// build: the schematics need no dist), installed into a fresh Nest-style ESM app, and the Nest
// CLI generates a hub there with `nest g -c nestjs-signalr hub <name>`. The generated spec is then
// run with Vitest in that app, and the generated hub served to the official client.
import type { Type } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.js';
import { ClientPool, nextCall } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const nestCli = join(repoRoot, 'node_modules/@nestjs/cli/bin/nest.js');
const vitestCli = join(repoRoot, 'node_modules/vitest/vitest.mjs');

const env = childEnv();

let work: string;
let app: string;

/** What `nest ...` printed. A failed schematic shows there (the CLI 12.0 exits 0 after it anyway). */
async function nest(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [nestCli, ...args], { cwd: app, env, timeout: 30_000 }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: `${error.stderr ?? ''}\n${String(error)}` }),
  );
  return stripVTControlCharacters(stdout + stderr);
}

const read = (path: string) => readFile(join(app, path), 'utf8');

describe('nest g -c nestjs-signalr hub, from a packed tarball', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-signalr-schematic-'));
    app = join(work, 'app');

    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: repoRoot,
      env,
    });
    const [{ filename, files }] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const shipped = files.map((file) => file.path);
    expect(shipped).toEqual(
      expect.arrayContaining([
        'schematics/collection.json',
        'schematics/hub/index.js',
        'schematics/hub/schema.json',
        'schematics/hub/files/hub.ts.template',
        'schematics/hub/files/hub.spec.ts.template',
      ]),
    );

    await mkdir(join(app, 'src'), { recursive: true });
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'scaffold-check', version: '0.0.0', private: true, type: 'module' }, null, 2),
    );
    await writeFile(join(app, 'nest-cli.json'), JSON.stringify({ collection: '@nestjs/schematics', sourceRoot: 'src' }));
    await writeFile(
      join(app, 'src/app.module.ts'),
      `import { Module } from '@nestjs/common';\n\n@Module({\n  imports: [],\n})\nexport class AppModule {}\n`,
    );
    // What `nest new` (ESM) writes, in short; Vitest transforms the generated files with it.
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2023',
          strict: true,
          isolatedModules: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          types: ['vitest/globals', 'node'],
        },
      }),
    );
    // The schematic needs none of the package's peers (Nest itself); the cache has the rest.
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=peer', '--ignore-scripts', join(work, filename)],
      { cwd: app, env, timeout: 45_000 },
    );
  }, 60_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('creates the hub and its spec and registers the hub in the app module', async () => {
    const output = await nest('g', '-c', 'nestjs-signalr', 'hub', 'chat');
    expect(output).toContain('CREATE src/chat/chat.hub.ts');
    expect(output).toContain('CREATE src/chat/chat.hub.spec.ts');
    expect(output).toContain('UPDATE src/app.module.ts');

    const hub = await read('src/chat/chat.hub.ts');
    expect(hub).toContain(`@Hub('/hubs/chat')\nexport class ChatHub {`);
    expect(hub).toContain('@Authorize()');
    expect(hub).toContain("} from 'nestjs-signalr';");
    expect(await read('src/chat/chat.hub.spec.ts')).toContain("import { ChatHub } from './chat.hub.js';");
    expect(await read('src/app.module.ts')).toBe(
      `import { Module } from '@nestjs/common';\nimport { ChatHub } from './chat/chat.hub.js';\n\n@Module({\n  imports: [],\n  providers: [ChatHub],\n})\nexport class AppModule {}\n`,
    );
  }, 30_000);

  it('takes the alias, a path, --flat and --no-spec, and refuses to overwrite a hub', async () => {
    const output = await nest('g', '-c', 'nestjs-signalr', 'h', 'ChatRoom', 'realtime', '--flat', '--no-spec');
    expect(output).toContain('CREATE src/realtime/chat-room.hub.ts');
    expect(output).not.toContain('.spec.ts');
    expect(await read('src/realtime/chat-room.hub.ts')).toContain(`@Hub('/hubs/chat-room')\nexport class ChatRoomHub {`);
    const module = await read('src/app.module.ts');
    expect(module).toContain("import { ChatRoomHub } from './realtime/chat-room.hub.js';");
    expect(module).toContain('providers: [ChatHub, ChatRoomHub],');

    expect(await nest('g', '-c', 'nestjs-signalr', 'hub', 'chat')).toContain(
      'src/chat/chat.hub.ts already exists: choose another hub name or path.',
    );
    expect(await read('src/app.module.ts')).toBe(module);
  }, 30_000);

  it("passes the generated spec with Vitest (Nest 12's ESM setup: globals)", async () => {
    // The installed package has no dist (nothing was built): run against this repository's sources.
    await writeFile(
      join(app, 'vitest.config.mjs'),
      `export default ${JSON.stringify({
        resolve: { alias: { 'nestjs-signalr': join(repoRoot, 'src/index.ts') } },
        test: { globals: true, include: ['src/**/*.spec.ts'] },
      })};\n`,
    );
    const { stdout: colored } = await run(process.execPath, [vitestCli, 'run', '--reporter=verbose'], {
      cwd: app,
      env,
      timeout: 30_000,
    });
    const stdout = stripVTControlCharacters(colored);
    expect(stdout).toContain('ChatHub > sends a message to every client');
    expect(stdout).toMatch(/Tests\s+3 passed \(3\)/);
  }, 30_000);

  it('generates a hub that serves the official client, its @Authorize() method as its comment says', async () => {
    // The generated file itself, compiled by Vitest with the app's tsconfig; 'nestjs-signalr' is
    // this repository's sources (vitest.config.ts), as for the test helpers.
    const { ChatHub } = (await import(join(app, 'src/chat/chat.hub.ts'))) as { ChatHub: Type };
    const clients = new ClientPool();
    let server: RunningHubApp | undefined;
    try {
      server = await startHubApp([ChatHub], { authStrategies: ['jwt'] }, { imports: [TestAuthModule] });
      const url = `${server.baseUrl}/hubs/chat`;
      const token = signFor(server.app.get(JwtService), 'alice');
      const anonymous = await clients.connect(url);
      const alice = await clients.connect(url, { accessTokenFactory: () => token });

      const received = nextCall(anonymous, 'ReceiveMessage');
      await alice.invoke('Send', 'hello');
      expect(await received).toEqual(['alice', 'hello']);
      await expect(anonymous.invoke('Send', '')).rejects.toThrow('Text must be 1 to 1000 characters.');

      await expect(anonymous.invoke('Announce', 'hi')).rejects.toThrow(
        "Failed to invoke 'Announce' because user is unauthorized",
      );
      const announced = nextCall(anonymous, 'Announcement');
      await alice.invoke('Announce', 'maintenance at noon');
      expect(await announced).toEqual(['maintenance at noon']);
    } finally {
      await clients.stopAll();
      await server?.close();
    }
  }, 30_000);
});
