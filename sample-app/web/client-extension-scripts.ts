import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The client extension's files the page loads, as ES modules that import each other by these names. */
export const CLIENT_EXTENSION_FILES = ['authentication-refresh.js', 'signalr-client-internals.js'] as const;
export type ClientExtensionFile = (typeof CLIENT_EXTENSION_FILES)[number];

// The sample runs from the repository, from its sources (tests) or from dist/ (npm start): the
// extension's sources are two or three levels up. The browser takes them as JavaScript.
const SOURCE_DIRECTORIES = ['../../src/client-extension/', '../../../src/client-extension/'].map((relative) => new URL(relative, import.meta.url));
const scripts = new Map<ClientExtensionFile, string>();

/** The file, its types stripped (it imports `@microsoft/signalr` for types only, so the browser needs nothing else). */
export function clientExtensionScript(file: ClientExtensionFile): string {
  let script = scripts.get(file);
  if (script === undefined) {
    const source = SOURCE_DIRECTORIES.map((directory) => fileURLToPath(new URL(file.replace(/\.js$/, '.ts'), directory))).find((path) => existsSync(path));
    if (!source) throw new Error(`The client extension's source of ${file} is not in this checkout.`);
    const compilerOptions = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false };
    scripts.set(file, (script = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions }).outputText));
  }
  return script;
}
