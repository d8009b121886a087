// The README's quick start, as a new user follows it: its install line installs the packed package
// (offline) into a Nest app that has only what `nest new` gives it, its key generation commands
// make the secrets, its `// src/...` code blocks are the app's files, compiled with tsc and
// started; the official client then signs in and chats, as the README says it will.
import type { HubConnection } from '@microsoft/signalr';
import { JwtService } from '@nestjs/jwt';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../support/child-env.js';
import { ClientPool, nextCall } from '../support/client.js';
import {
  compile,
  installOffline,
  NEST_NEW_COMPILER_OPTIONS,
  packRepository,
  REPO_ROOT,
  run,
  startApp,
  writeApp,
  type RunningApp,
} from '../support/packed-package.js';

// What a `nest new` app depends on before the user installs anything.
const NEST_NEW_PACKAGES = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs', '@types/node'];

interface QuickStart {
  /** The packages its `npm install` lines name. */
  readonly packages: readonly string[];
  /** Its `export NAME=$(command)` lines: the environment variables and the commands that make them. */
  readonly secrets: ReadonlyMap<string, string>;
  /** Its code blocks that open with `// src/<file>`, by that path. */
  readonly files: ReadonlyMap<string, string>;
  /** The text of the section, for what it promises. */
  readonly text: string;
}

function readQuickStart(readme: string): QuickStart {
  const start = readme.indexOf('## Quick start');
  const text = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const blocks = [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, language, body]) => ({ language, body }));
  const shell = blocks.filter(({ language }) => language === 'bash').flatMap(({ body }) => body.split('\n'));
  const packages = shell
    .filter((line) => line.startsWith('npm install '))
    .flatMap((line) => line.split(/\s+/).slice(2))
    .filter((word) => !word.startsWith('-'));
  const secrets = new Map(shell.flatMap((line) => [...line.matchAll(/^export (\w+)=\$\((.*)\)$/g)].map(([, name, command]) => [name, command] as const)));
  const files = new Map(blocks.flatMap(({ body }) => [...body.matchAll(/^\/\/ (src\/[\w./-]+\.ts)\b/g)].map(([, path]) => [path, body] as const)));
  return { packages, secrets, files, text };
}

let work: string;
let quickStart: QuickStart;
let app: RunningApp;
let compiled: string;
const jwt = new JwtService();
let jwtSecret: string;

describe("the README's quick start, followed to the letter", () => {
  beforeAll(async () => {
    quickStart = readQuickStart(await readFile(join(REPO_ROOT, 'README.md'), 'utf8'));
    work = await mkdtemp(join(tmpdir(), 'nestjs-signalr-quick-start-'));
    const { manifest, tarball } = await packRepository(work);
    const appFolder = join(work, 'app');
    await mkdir(appFolder);
    const named = quickStart.packages.filter((name) => name !== manifest.name);
    await installOffline(appFolder, REPO_ROOT, tarball, manifest, [...NEST_NEW_PACKAGES, ...named]);
    for (const [path, body] of quickStart.files) {
      await mkdir(dirname(join(appFolder, path)), { recursive: true });
      await writeFile(join(appFolder, path), body);
    }
    // installOffline wrote the app's package.json with its dependencies; the module type joins them.
    const packageJson = JSON.parse(await readFile(join(appFolder, 'package.json'), 'utf8')) as Record<string, unknown>;
    await writeApp(appFolder, { ...packageJson, type: 'module' }, NEST_NEW_COMPILER_OPTIONS);
    compiled = await compile(appFolder);

    const environment: Record<string, string> = { NODE_ENV: 'production', PORT: '0' };
    for (const [name, command] of quickStart.secrets) {
      environment[name] = (await run('sh', ['-c', command], { env: childEnv() })).stdout.trim();
    }
    jwtSecret = environment.JWT_SECRET;
    if (compiled === '') app = await startApp(appFolder, environment);
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('installs with its own install line, makes both secrets with its commands, and compiles as written', () => {
    expect(quickStart.packages).toContain('nestjs-signalr');
    expect([...quickStart.secrets.keys()]).toEqual(['SIGNALR_KEY', 'JWT_SECRET']);
    expect([...quickStart.files.keys()]).toEqual(['src/chat.hub.ts', 'src/jwt.strategy.ts', 'src/notifications.module.ts', 'src/app.module.ts', 'src/main.ts']);
    expect(compiled).toBe('');
  });

  it('starts and logs the hub as the README shows it', () => {
    const promised = /At start the log names each hub: `([^`]+)`/.exec(quickStart.text)?.[1].replace(/\s+/g, ' ');
    expect(promised).toMatch(/^Serving ChatHub at \/hubs\/chat: /);
    expect(app.output()).toContain(promised);
  });

  it('refuses a client without a token, and serves one signed in: join, send, stream', async () => {
    const clients = new ClientPool();
    try {
      await expect(clients.connect(`${app.url}/hubs/chat`)).rejects.toThrow(/401/);
      const token = jwt.sign({ sub: 'alice' }, { secret: jwtSecret });
      const alice: HubConnection = await clients.connect(`${app.url}/hubs/chat`, { accessTokenFactory: () => token });
      await alice.invoke('Join', 'general');
      const received = nextCall(alice, 'ReceiveMessage');
      await alice.invoke('Send', 'general', 'hi');
      expect(await received).toEqual(['general', 'hi']);
      await expect(alice.invoke('Join', 'Bad Room')).rejects.toThrow('Bad room name.');
      const counted: number[] = [];
      await new Promise<void>((resolve, reject) => {
        alice.stream<number>('Countdown', 3).subscribe({ next: (value) => counted.push(value), complete: resolve, error: reject });
      });
      expect(counted).toEqual([3, 2, 1, 0]);
    } finally {
      await clients.stopAll();
    }
  });
});
