/**
 * An environment for the npm, node and CLI processes a suite starts: none of the npm_* or VITEST*
 * variables (nor NODE_OPTIONS) of the run around them, which would change what those children do.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([key]) => !/^(npm_|VITEST)/i.test(key) && key !== 'NODE_OPTIONS');
  return { ...Object.fromEntries(inherited), npm_config_update_notifier: 'false', ...extra };
}
