// Adds a class to the `providers` of a Nest module file, and its import, by editing the text at
// positions found in TypeScript's syntax tree: the rest of the file is left exactly as it was.

/** @typedef {import('typescript')} TypeScript */
/** @typedef {{ start: number, end: number, text: string }} Edit */

/**
 * Returns the module source with `className` in the providers of its @Module() metadata and
 * imported from `importPath`; returns `source` itself when both are there already.
 * @param {TypeScript} ts
 * @param {string} source
 * @param {string} fileName for messages
 * @param {{ className: string, importPath: string }} provider
 * @returns {string}
 */
export function addProviderToModule(ts, source, fileName, { className, importPath }) {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const call = findModuleDecorator(ts, file);
  if (!call) {
    throw new Error(`No @Module() class found in ${fileName}: pass --module <file>, or --skip-import.`);
  }
  /** @type {Edit[]} */
  const edits = [];
  const providersEdit = providersEditFor(ts, file, call, className, fileName);
  if (providersEdit) edits.push(providersEdit);
  if (!importsName(ts, file, className)) edits.push(importEditFor(ts, file, className, importPath));
  return edits
    .toSorted((a, b) => b.start - a.start)
    .reduce((text, edit) => text.slice(0, edit.start) + edit.text + text.slice(edit.end), source);
}

/**
 * The `Module(...)` call decorating a top-level class.
 * @param {TypeScript} ts
 * @param {import('typescript').SourceFile} file
 * @returns {import('typescript').CallExpression | undefined}
 */
function findModuleDecorator(ts, file) {
  for (const statement of file.statements) {
    if (!ts.isClassDeclaration(statement)) continue;
    for (const decorator of ts.getDecorators(statement) ?? []) {
      const expression = decorator.expression;
      if (ts.isCallExpression(expression) && ts.isIdentifier(expression.expression) && expression.expression.text === 'Module') {
        return expression;
      }
    }
  }
  return undefined;
}

/**
 * @param {TypeScript} ts
 * @param {import('typescript').SourceFile} file
 * @param {import('typescript').CallExpression} call
 * @param {string} className
 * @param {string} fileName
 * @returns {Edit | undefined} undefined when the class is in the providers already
 */
function providersEditFor(ts, file, call, className, fileName) {
  const metadata = call.arguments[0];
  if (!metadata) {
    // @Module()
    const at = call.arguments.pos;
    return { start: at, end: at, text: `{ providers: [${className}] }` };
  }
  if (!ts.isObjectLiteralExpression(metadata)) {
    throw new Error(
      `The @Module() metadata in ${fileName} is not an object literal: add ${className} to its providers yourself, or pass --module <file>.`,
    );
  }
  const property = metadata.properties.find(
    (candidate) =>
      (ts.isPropertyAssignment(candidate) || ts.isShorthandPropertyAssignment(candidate)) &&
      propertyName(ts, candidate.name) === 'providers',
  );

  if (!property) {
    if (metadata.properties.some((candidate) => !ts.isPropertyAssignment(candidate) && !ts.isShorthandPropertyAssignment(candidate))) {
      // A spread such as `...base` may hold providers of its own, which a new property would hide.
      throw new Error(
        `The @Module() metadata in ${fileName} has no providers property of its own: add ${className} to its providers yourself, or pass --module <file>.`,
      );
    }
    return appendTo(file, metadata, metadata.properties, `providers: [${className}]`);
  }
  if (ts.isShorthandPropertyAssignment(property)) {
    // { providers } names an array declared elsewhere
    return { start: property.getStart(file), end: property.end, text: `providers: [...providers, ${className}]` };
  }
  const list = /** @type {import('typescript').PropertyAssignment} */ (property).initializer;
  if (!ts.isArrayLiteralExpression(list)) {
    // providers: SOME_PROVIDERS
    return { start: list.getStart(file), end: list.end, text: `[...${list.getText(file)}, ${className}]` };
  }
  if (list.elements.some((element) => ts.isIdentifier(element) && element.text === className)) return undefined;
  return appendTo(file, list, list.elements, className);
}

/**
 * Appends an element after the last one of an object or array literal, on a line of its own when
 * the elements are written one per line.
 * @param {import('typescript').SourceFile} file
 * @param {import('typescript').Node} literal
 * @param {import('typescript').NodeArray<import('typescript').Node>} elements
 * @param {string} text
 * @returns {Edit}
 */
function appendTo(file, literal, elements, text) {
  const last = elements.at(-1);
  if (!last) {
    const open = literal.getStart(file) + 1;
    const close = literal.end - 1;
    const isObject = file.text[open - 1] === '{';
    if (file.text.slice(open, close).trim() === '') {
      return { start: open, end: close, text: isObject ? ` ${text} ` : text };
    }
    // only comments inside
    return { start: open, end: open, text: isObject ? ` ${text},` : `${text}, ` };
  }
  const lastStart = last.getStart(file);
  const multiline = lineOf(file, lastStart) !== lineOf(file, literal.getStart(file));
  return { start: last.end, end: last.end, text: multiline ? `,\n${indentAt(file, lastStart)}${text}` : `, ${text}` };
}

/**
 * @param {import('typescript').SourceFile} file
 * @param {number} position
 */
function lineOf(file, position) {
  return file.getLineAndCharacterOfPosition(position).line;
}

/**
 * The white space before `position` on its line.
 * @param {import('typescript').SourceFile} file
 * @param {number} position
 */
function indentAt(file, position) {
  const lineStart = file.getPositionOfLineAndCharacter(lineOf(file, position), 0);
  const before = file.text.slice(lineStart, position);
  return /^\s*$/.test(before) ? before : '  ';
}

/**
 * @param {TypeScript} ts
 * @param {import('typescript').PropertyName} name
 */
function propertyName(ts, name) {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/**
 * Whether an import declaration of the file brings `name` into scope.
 * @param {TypeScript} ts
 * @param {import('typescript').SourceFile} file
 * @param {string} name
 */
function importsName(ts, file, name) {
  return file.statements.some((statement) => {
    if (!ts.isImportDeclaration(statement) || !statement.importClause) return false;
    const clause = statement.importClause;
    if (clause.name?.text === name) return true;
    const bindings = clause.namedBindings;
    if (!bindings) return false;
    if (ts.isNamespaceImport(bindings)) return bindings.name.text === name;
    return bindings.elements.some((element) => element.name.text === name);
  });
}

/**
 * A new import line after the last import declaration (or at the top).
 * @param {TypeScript} ts
 * @param {import('typescript').SourceFile} file
 * @param {string} className
 * @param {string} importPath
 * @returns {Edit}
 */
function importEditFor(ts, file, className, importPath) {
  const line = `import { ${className} } from '${importPath}';`;
  const lastImport = file.statements.filter((statement) => ts.isImportDeclaration(statement)).at(-1);
  return lastImport
    ? { start: lastImport.end, end: lastImport.end, text: `\n${line}` }
    : { start: 0, end: 0, text: `${line}\n` };
}
