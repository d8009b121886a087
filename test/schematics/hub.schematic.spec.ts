import { fileURLToPath } from 'node:url';
import { Tree } from '@angular-devkit/schematics';
import { SchematicTestRunner, type UnitTestTree } from '@angular-devkit/schematics/testing/index.js';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const collectionPath = fileURLToPath(new URL('../../schematics/collection.json', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const APP_MODULE = `import { Module } from '@nestjs/common';
import { AppService } from './app.service.js';

@Module({
  imports: [],
  providers: [AppService],
})
export class AppModule {}
`;

interface HubOptions {
  name: string;
  path?: string;
  sourceRoot?: string;
  module?: string;
  flat?: boolean;
  spec?: boolean;
  specFileSuffix?: string;
  skipImport?: boolean;
  language?: string;
}

function project(files: Record<string, string> = {}, { esm = true } = {}): Tree {
  const tree = Tree.empty();
  const all: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'app', ...(esm ? { type: 'module' } : {}) }),
    'nest-cli.json': JSON.stringify({ collection: '@nestjs/schematics', sourceRoot: 'src' }),
    'src/app.module.ts': APP_MODULE,
    ...files,
  };
  for (const [path, content] of Object.entries(all)) tree.create(path, content);
  return tree;
}

async function generate(options: HubOptions, tree: Tree = project(), schematic = 'hub') {
  const runner = new SchematicTestRunner('nestjs-signalr', collectionPath);
  const logs: string[] = [];
  runner.logger.subscribe((entry) => logs.push(`${entry.level}: ${entry.message}`));
  const result = await runner.runSchematic(schematic, options, tree);
  return { tree: result, logs };
}

/** The files generated without a spec, for placement checks. */
const placedAt = async (options: HubOptions, tree?: Tree) =>
  generatedFiles((await generate({ spec: false, ...options }, tree)).tree);

/** The module file after `hub chat` ran against it. */
const registered = async (moduleSource: string) =>
  (await generate({ name: 'chat', spec: false }, project({ 'src/app.module.ts': moduleSource }))).tree.readContent(
    'src/app.module.ts',
  );

const importSources = (content: string) => [...content.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
const generatedFiles = (tree: UnitTestTree) =>
  tree.files.filter((file) => !['/package.json', '/nest-cli.json'].includes(file) && !file.endsWith('.module.ts'));

describe('hub schematic: generated files', () => {
  it('creates src/<name>/<name>.hub.ts and its spec for `hub chat`', async () => {
    const { tree } = await generate({ name: 'chat' });
    expect(generatedFiles(tree)).toEqual(['/src/chat/chat.hub.ts', '/src/chat/chat.hub.spec.ts']);

    const hub = tree.readContent('src/chat/chat.hub.ts');
    expect(hub).toContain(`@Hub('/hubs/chat')\nexport class ChatHub {`);
    expect(hub).toMatch(/ {2}async send\(\n {4}text: string,\n {4}@Caller\(\) caller: HubCallerContext,/);
    expect(hub).toMatch(/\n {2}@Authorize\(\)\n {2}async announce\(/);
    expect(hub).toContain('Signed-in users only.'); // the comment that explains @Authorize()
    expect(importSources(hub)).toEqual(['nestjs-signalr']);
    expect(hub).not.toMatch(/<%|%>/);

    const spec = tree.readContent('src/chat/chat.hub.spec.ts');
    expect(importSources(spec)).toEqual(['nestjs-signalr', './chat.hub.js']);
    expect(spec).toContain("describe('ChatHub', () => {");
    expect(spec).toContain('hub = new ChatHub();');
    expect(spec).toContain("hubPath: '/hubs/chat',");
    // Runner-agnostic like Nest's own specs: Vitest globals (Nest 12 ESM apps) or Jest.
    expect(spec).not.toMatch(/from 'vitest'|from '@jest\/globals'/);
  });

  it.each([
    ['chat-room'],
    ['chatRoom'],
    ['ChatRoom'],
    ['chat_room'],
  ])('dasherizes file names and classifies the class name: %s', async (name) => {
    const { tree } = await generate({ name });
    expect(generatedFiles(tree)).toEqual(['/src/chat-room/chat-room.hub.ts', '/src/chat-room/chat-room.hub.spec.ts']);
    const hub = tree.readContent('src/chat-room/chat-room.hub.ts');
    expect(hub).toContain(`@Hub('/hubs/chat-room')\nexport class ChatRoomHub {`);
    expect(tree.readContent('src/chat-room/chat-room.hub.spec.ts')).toContain("from './chat-room.hub.js';");
    expect(tree.readContent('src/app.module.ts')).toContain("import { ChatRoomHub } from './chat-room/chat-room.hub.js';");
  });

  it('answers to its alias h', async () => {
    const { tree } = await generate({ name: 'chat' }, project(), 'h');
    expect(tree.exists('src/chat/chat.hub.ts')).toBe(true);
  });

  it('flat: creates the files in the target folder itself', async () => {
    const { tree } = await generate({ name: 'chat', flat: true });
    expect(generatedFiles(tree)).toEqual(['/src/chat.hub.ts', '/src/chat.hub.spec.ts']);
    expect(tree.readContent('src/app.module.ts')).toContain("import { ChatHub } from './chat.hub.js';");
  });

  it('spec: false creates no spec; specFileSuffix renames it', async () => {
    expect(generatedFiles((await generate({ name: 'chat', spec: false })).tree)).toEqual(['/src/chat/chat.hub.ts']);
    expect(generatedFiles((await generate({ name: 'chat', specFileSuffix: 'test' })).tree)).toEqual([
      '/src/chat/chat.hub.ts',
      '/src/chat/chat.hub.test.ts',
    ]);
  });

  it('places the hub by path (relative to the source root), by folders in the name, and by sourceRoot', async () => {
    expect(await placedAt({ name: 'chat', path: 'realtime' })).toEqual(['/src/realtime/chat/chat.hub.ts']);
    expect(await placedAt({ name: 'chat', path: 'src/realtime' })).toEqual(['/src/realtime/chat/chat.hub.ts']);
    expect(await placedAt({ name: 'chat', path: 'src' })).toEqual(['/src/chat/chat.hub.ts']);
    expect(await placedAt({ name: 'admin/audit-log' })).toEqual(['/src/admin/audit-log/audit-log.hub.ts']);
    expect(await placedAt({ name: 'adminTools/audit', flat: true })).toEqual(['/src/admin-tools/audit.hub.ts']);
    const monorepo = project({ 'apps/api/src/api.module.ts': APP_MODULE });
    expect(await placedAt({ name: 'chat', sourceRoot: 'apps/api/src' }, monorepo)).toEqual(['/apps/api/src/chat/chat.hub.ts']);
  });

  it('writes extensionless relative imports when package.json is not "type": "module"', async () => {
    const { tree } = await generate({ name: 'chat' }, project({}, { esm: false }));
    expect(tree.readContent('src/chat/chat.hub.spec.ts')).toContain("import { ChatHub } from './chat.hub';");
    expect(tree.readContent('src/app.module.ts')).toContain("import { ChatHub } from './chat/chat.hub';");
  });

  it.each([['123'], ['chat!'], ['chat.room'], ['-chat'], ['  ']])('refuses the name %j', async (name) => {
    await expect(generate({ name })).rejects.toThrow(/hub name/);
  });

  it('refuses language js and paths out of the project', async () => {
    await expect(generate({ name: 'chat', language: 'js' })).rejects.toThrow(/TypeScript only/);
    await expect(generate({ name: 'chat', path: '../elsewhere' })).rejects.toThrow(/out of the project/);
  });

  it('generates a hub and a spec that type-check against the library (strict, nodenext, Vitest globals)', async () => {
    const { tree } = await generate({ name: 'chat-room' }, project({ 'src/app.module.ts': MODULE_WITHOUT_LOCAL_IMPORTS }));
    const files = ['src/app.module.ts', 'src/chat-room/chat-room.hub.ts', 'src/chat-room/chat-room.hub.spec.ts'];
    expect(typeErrors(Object.fromEntries(files.map((file) => [file, tree.readContent(file)])))).toEqual([]);
  });
});

describe('hub schematic: registration in a module', () => {
  it('adds the hub to an existing providers array, with its import after the last import', async () => {
    expect(await registered(APP_MODULE)).toBe(`import { Module } from '@nestjs/common';
import { AppService } from './app.service.js';
import { ChatHub } from './chat/chat.hub.js';

@Module({
  imports: [],
  providers: [AppService, ChatHub],
})
export class AppModule {}
`);
  });

  it('adds a providers property when the module has none', async () => {
    expect(
      await registered(`import { Module } from '@nestjs/common';

@Module({
  imports: [],
  controllers: [],
})
export class AppModule {}
`),
    ).toBe(`import { Module } from '@nestjs/common';
import { ChatHub } from './chat/chat.hub.js';

@Module({
  imports: [],
  controllers: [],
  providers: [ChatHub],
})
export class AppModule {}
`);
  });

  it.each([
    ['an empty providers array', `@Module({ providers: [] })`, `@Module({ providers: [ChatHub] })`],
    ['empty metadata', `@Module({})`, `@Module({ providers: [ChatHub] })`],
    ['no metadata', `@Module()`, `@Module({ providers: [ChatHub] })`],
    [
      'one provider per line, with a trailing comma',
      `@Module({\n  providers: [\n    AppService,\n    { provide: 'X', useValue: 1 },\n  ],\n})`,
      `@Module({\n  providers: [\n    AppService,\n    { provide: 'X', useValue: 1 },\n    ChatHub,\n  ],\n})`,
    ],
    [
      'one property per line, with a trailing comma',
      `@Module({\n  imports: [ConfigModule],\n})`,
      `@Module({\n  imports: [ConfigModule],\n  providers: [ChatHub],\n})`,
    ],
    ['providers held in a constant', `@Module({ providers: PROVIDERS })`, `@Module({ providers: [...PROVIDERS, ChatHub] })`],
    ['shorthand providers', `@Module({ providers })`, `@Module({ providers: [...providers, ChatHub] })`],
    [
      'a providers array mentioning the name in a comment or string only',
      `@Module({ providers: [/* ChatHub later */ { provide: 'ChatHub', useValue: 1 }] })`,
      `@Module({ providers: [/* ChatHub later */ { provide: 'ChatHub', useValue: 1 }, ChatHub] })`,
    ],
  ])('registers into %s', async (_case, decorator, expected) => {
    const source = `import { Module } from '@nestjs/common';\n\n${decorator}\nexport class AppModule {}\n`;
    expect(await registered(source)).toBe(
      `import { Module } from '@nestjs/common';\nimport { ChatHub } from './chat/chat.hub.js';\n\n${expected}\nexport class AppModule {}\n`,
    );
  });

  it('leaves other decorated classes and later code alone', async () => {
    const source = `import { Injectable, Module } from '@nestjs/common';

@Injectable()
export class Helper {}

@Module({ providers: [Helper] })
export class AppModule {}

export const providers = [];
`;
    const after = await registered(source);
    expect(after).toContain('@Module({ providers: [Helper, ChatHub] })');
    expect(after).toContain('@Injectable()\nexport class Helper {}');
    expect(after).toContain('export const providers = [];');
  });

  it('registers in the nearest *.module.ts walking up from the hub folder', async () => {
    const chatModule = `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class ChatModule {}\n`;
    const { tree } = await generate({ name: 'room', path: 'chat' }, project({ 'src/chat/chat.module.ts': chatModule }));
    expect(tree.exists('src/chat/room/room.hub.ts')).toBe(true);
    expect(tree.readContent('src/chat/chat.module.ts')).toBe(
      `import { Module } from '@nestjs/common';\nimport { RoomHub } from './room/room.hub.js';\n\n@Module({ providers: [RoomHub] })\nexport class ChatModule {}\n`,
    );
    expect(tree.readContent('src/app.module.ts')).toBe(APP_MODULE);
  });

  it('registers in the module given by the module option', async () => {
    const chatModule = `import { Module } from '@nestjs/common';\n\n@Module({})\nexport class ChatModule {}\n`;
    for (const module of ['src/app.module.ts', 'app.module', '/src/app.module.ts']) {
      const { tree } = await generate(
        { name: 'room', path: 'chat', module },
        project({ 'src/chat/chat.module.ts': chatModule }),
      );
      expect(tree.readContent('src/chat/chat.module.ts')).toBe(chatModule);
      expect(tree.readContent('src/app.module.ts')).toContain("import { RoomHub } from './chat/room/room.hub.js';");
      expect(tree.readContent('src/app.module.ts')).toContain('providers: [AppService, RoomHub],');
    }
    await expect(generate({ name: 'room', module: 'src/missing.module.ts' })).rejects.toThrow(/does not exist/);
  });

  it('skipImport: creates the files and leaves the module untouched', async () => {
    const { tree } = await generate({ name: 'chat', skipImport: true });
    expect(generatedFiles(tree)).toEqual(['/src/chat/chat.hub.ts', '/src/chat/chat.hub.spec.ts']);
    expect(tree.readContent('src/app.module.ts')).toBe(APP_MODULE);
  });

  it('warns, and still creates the files, when no module is found', async () => {
    const tree = Tree.empty();
    tree.create('package.json', JSON.stringify({ type: 'module' }));
    const { tree: result, logs } = await generate({ name: 'chat' }, tree);
    expect(result.exists('src/chat/chat.hub.ts')).toBe(true);
    expect(logs).toContainEqual(expect.stringMatching(/^warn: No \*\.module\.ts found above src\/chat: add ChatHub/));
  });

  it('refuses a module file without an @Module() class, or whose metadata it cannot edit', async () => {
    await expect(generate({ name: 'chat' }, project({ 'src/app.module.ts': 'export const x = 1;\n' }))).rejects.toThrow(
      /No @Module\(\) class found in src\/app.module.ts: pass --module <file>, or --skip-import/,
    );
    const computed = `import { Module } from '@nestjs/common';\n@Module(metadata())\nexport class AppModule {}\n`;
    await expect(generate({ name: 'chat' }, project({ 'src/app.module.ts': computed }))).rejects.toThrow(/not an object literal/);
    const spread = `import { Module } from '@nestjs/common';\n@Module({ ...base })\nexport class AppModule {}\n`;
    await expect(generate({ name: 'chat' }, project({ 'src/app.module.ts': spread }))).rejects.toThrow(/no providers property/);
  });

  it('fails a second run for the same name, leaving the module as the first run left it', async () => {
    const first = (await generate({ name: 'chat' })).tree;
    const moduleAfterFirst = first.readContent('src/app.module.ts');
    await expect(generate({ name: 'chat' }, first)).rejects.toThrow('src/chat/chat.hub.ts already exists');
    expect(first.readContent('src/app.module.ts')).toBe(moduleAfterFirst);
  });

  it('never duplicates the provider or its import', async () => {
    const first = (await generate({ name: 'chat' })).tree;
    first.delete('src/chat/chat.hub.ts');
    first.delete('src/chat/chat.hub.spec.ts');
    const { tree: second, logs } = await generate({ name: 'chat' }, first);
    const module = second.readContent('src/app.module.ts');
    expect(module.match(/ChatHub/g)).toHaveLength(2); // one import, one provider
    expect(module).toContain('providers: [AppService, ChatHub],');
    expect(logs).toContain('info: ChatHub is already registered in src/app.module.ts.');
  });

  it('adds only the missing provider when the class is imported already', async () => {
    const source = `import { Module } from '@nestjs/common';\nimport { ChatHub } from './chat/chat.hub.js';\n\n@Module({})\nexport class AppModule {}\n`;
    expect(await registered(source)).toBe(
      `import { Module } from '@nestjs/common';\nimport { ChatHub } from './chat/chat.hub.js';\n\n@Module({ providers: [ChatHub] })\nexport class AppModule {}\n`,
    );
  });
});

const MODULE_WITHOUT_LOCAL_IMPORTS = `import { Module } from '@nestjs/common';
import { SignalRModule } from 'nestjs-signalr';

@Module({
  imports: [SignalRModule.forRoot({})],
})
export class AppModule {}
`;

/**
 * Type-checks generated files as if they were in a Nest 12 ESM project (the tsconfig `nest new`
 * writes, with Vitest globals), with 'nestjs-signalr' resolved to this repository's sources.
 * Only errors in the given files count: the library has its own type-check.
 */
function typeErrors(files: Record<string, string>): string[] {
  const root = `${repoRoot}.schematic-check/`;
  const virtual = new Map(Object.entries(files).map(([path, content]) => [`${root}${path}`, content]));
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    strict: true,
    isolatedModules: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['vitest/globals', 'node'],
    paths: { 'nestjs-signalr': [`${repoRoot}src/index.ts`] },
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  const directoryExists = host.directoryExists?.bind(host);
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.directoryExists = (name) =>
    [...virtual.keys()].some((file) => file.startsWith(`${name}/`)) || (directoryExists?.(name) ?? true);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const content = virtual.get(name);
    return content === undefined
      ? getSourceFile.call(host, name, languageVersion, ...rest)
      : ts.createSourceFile(name, content, languageVersion, true);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  return [...virtual.keys()].flatMap((name) => {
    const source = program.getSourceFile(name);
    if (!source) return [`${name}: not in the program`];
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
      (diagnostic) => `${name.slice(root.length)}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    );
  });
}
