import { createRequire } from 'node:module';
import { join } from 'node:path';

/** @type {typeof import('typescript') | undefined} */
let typescript;

/**
 * TypeScript is not a dependency of nestjs-signalr: it is taken from the project being generated
 * into (every Nest project has it), else from the CLI running the schematic (the Nest CLI
 * depends on it), else from wherever this package can see it.
 * @returns {typeof import('typescript')}
 */
export function loadTypeScript() {
  if (typescript) return typescript;
  const bases = [join(process.cwd(), 'package.json'), process.argv[1], import.meta.url].filter(Boolean);
  for (const base of bases) {
    try {
      typescript = /** @type {typeof import('typescript')} */ (createRequire(base)('typescript'));
      return typescript;
    } catch {
      // try the next place
    }
  }
  throw new Error(
    'The hub schematic needs the typescript package to register the hub in a module: install it, or pass --skip-import.',
  );
}
