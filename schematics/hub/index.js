// The `hub` schematic: `nest g -c nestjs-signalr hub <name>`.
// Plain ESM with JSDoc types, so that it ships without a build step. It imports nothing from
// @angular-devkit at run time (a project may not have it where this package could resolve it):
// a factory only needs the Tree it is handed. TypeScript, which parses the module file to register
// the hub, is loaded from the project (see load-typescript.js).
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { loadTypeScript } from '../utils/load-typescript.js';
import { addProviderToModule } from '../utils/module-registration.js';
import { classify, dasherize } from '../utils/names.js';

/**
 * @typedef {object} HubOptions
 * @property {string} name
 * @property {string} [path]
 * @property {string} [sourceRoot]
 * @property {string} [module]
 * @property {boolean} [flat]
 * @property {boolean} [spec]
 * @property {string} [specFileSuffix]
 * @property {boolean} [skipImport]
 * @property {string} [language]
 */

/** @typedef {import('@angular-devkit/schematics').Tree} Tree */
/** @typedef {import('@angular-devkit/schematics').SchematicContext} SchematicContext */
/** @typedef {import('@angular-devkit/schematics').DirEntry} DirEntry */

const TEMPLATES = new URL('./files/', import.meta.url);

/**
 * @param {HubOptions} options
 * @returns {(tree: Tree, context: SchematicContext) => Tree}
 */
export function hub(options) {
  return (tree, context) => {
    const target = resolveTarget(options);
    for (const file of target.files) {
      if (tree.exists(file.path)) {
        throw new Error(`${file.path} already exists: choose another hub name or path.`);
      }
    }
    const esm = isEsmProject(tree);

    if (!options.skipImport) {
      const modulePath = options.module
        ? resolveModuleOption(tree, options.module, target.sourceRoot)
        : findNearestModule(tree, target.directory);
      if (modulePath) {
        const source = readText(tree, modulePath);
        const updated = addProviderToModule(loadTypeScript(), source, modulePath, {
          className: target.className,
          importPath: relativeImport(modulePath, target.hubPath, esm),
        });
        if (updated === source) {
          context.logger.info(`${target.className} is already registered in ${modulePath}.`);
        } else {
          tree.overwrite(modulePath, updated);
        }
      } else {
        context.logger.warn(
          `No *.module.ts found above ${target.directory}: add ${target.className} to a module's providers yourself.`,
        );
      }
    }

    const values = {
      className: target.className,
      fileName: target.fileName,
      hubPath: target.hubRoute,
      importExtension: esm ? '.js' : '',
    };
    for (const file of target.files) tree.create(file.path, render(file.template, values));
    return tree;
  };
}

/** @param {HubOptions} options */
function resolveTarget(options) {
  if (typeof options.name !== 'string' || options.name.trim() === '') {
    throw new Error('A hub name is required: nest g -c nestjs-signalr hub <name>');
  }
  if (options.language !== undefined && options.language !== 'ts') {
    throw new Error(`The hub schematic generates TypeScript only (language '${options.language}' was asked for).`);
  }
  const segments = options.name.replace(/\\/g, '/').split('/').filter((segment) => segment !== '');
  const fileName = dasherize(/** @type {string} */ (segments.pop()));
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(fileName)) {
    throw new Error(
      `'${options.name}' does not make a hub name: use letters, digits and dashes, starting with a letter.`,
    );
  }
  const sourceRoot = cleanPath(options.sourceRoot ?? 'src', 'sourceRoot');
  let base = cleanPath(options.path ?? '', 'path');
  if (!(sourceRoot === '' || base === sourceRoot || base.startsWith(`${sourceRoot}/`))) {
    base = posix.join(sourceRoot, base);
  }
  const directory = cleanPath(
    posix.join(base, ...segments.map((segment) => dasherize(segment)), options.flat ? '' : fileName),
    'name',
  );
  const hubPath = posix.join(directory, `${fileName}.hub.ts`);
  const files = [{ path: hubPath, template: 'hub.ts.template' }];
  if (options.spec !== false) {
    const suffix = dasherize(options.specFileSuffix || 'spec');
    files.push({ path: posix.join(directory, `${fileName}.hub.${suffix}.ts`), template: 'hub.spec.ts.template' });
  }
  return {
    sourceRoot,
    directory,
    fileName,
    className: `${classify(fileName)}Hub`,
    hubRoute: `/hubs/${fileName}`,
    hubPath,
    files,
  };
}

/**
 * A project-relative POSIX path without leading or trailing slashes ('' for the root).
 * @param {string} path
 * @param {string} option
 */
function cleanPath(path, option) {
  const normalized = posix.normalize(path.replace(/\\/g, '/')).replace(/^\/+|\/+$/g, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    throw new Error(`The ${option} '${path}' leads out of the project.`);
  }
  return normalized === '.' ? '' : normalized;
}

/**
 * @param {Tree} tree
 * @param {string} option
 * @param {string} sourceRoot
 */
function resolveModuleOption(tree, option, sourceRoot) {
  const path = cleanPath(option, 'module');
  const candidates = [path, `${path}.ts`, posix.join(sourceRoot, path), posix.join(sourceRoot, `${path}.ts`)];
  const found = candidates.find((candidate) => candidate.endsWith('.ts') && tree.exists(candidate));
  if (!found) throw new Error(`The module file '${option}' does not exist.`);
  return found;
}

/**
 * The nearest *.module.ts in the hub's folder or above it, as Nest's own schematics find it.
 * @param {Tree} tree
 * @param {string} directory
 * @returns {string | undefined}
 */
function findNearestModule(tree, directory) {
  for (let dir = /** @type {DirEntry | null} */ (tree.getDir(`/${directory}`)); dir; dir = dir.parent) {
    const modules = dir.subfiles.filter((file) => file.endsWith('.module.ts')).toSorted();
    if (modules.length > 0) return cleanPath(posix.join(dir.path, modules[0]), 'module');
  }
  return undefined;
}

/**
 * Nest's rule: relative imports end in '.js' when package.json says "type": "module".
 * @param {Tree} tree
 */
function isEsmProject(tree) {
  const content = tree.read('package.json');
  if (!content) return false;
  try {
    return JSON.parse(content.toString('utf8')).type === 'module';
  } catch {
    return false;
  }
}

/**
 * @param {string} fromFile
 * @param {string} toFile a .ts file
 * @param {boolean} esm
 */
function relativeImport(fromFile, toFile, esm) {
  const relative = posix.relative(posix.dirname(fromFile), toFile.replace(/\.ts$/, ''));
  return `${relative.startsWith('.') ? relative : `./${relative}`}${esm ? '.js' : ''}`;
}

/**
 * @param {Tree} tree
 * @param {string} path
 */
function readText(tree, path) {
  const content = tree.read(path);
  if (!content) throw new Error(`Cannot read ${path}.`);
  return content.toString('utf8');
}

/**
 * Fills `<%= key %>` placeholders.
 * @param {string} template file name under files/
 * @param {Record<string, string>} values
 */
function render(template, values) {
  const text = readFileSync(new URL(template, TEMPLATES), 'utf8');
  return text.replace(/<%=\s*(\w+)\s*%>/g, (_match, /** @type {string} */ key) => {
    const value = values[key];
    if (value === undefined) throw new Error(`Template ${template} uses an unknown value '${key}'.`);
    return value;
  });
}
