/** What the Express router keeps of a middleware or a route. */
export interface RouterLayer {
  /** Set on routes (`app.get(...)`), absent on middleware (`app.use(...)`). */
  readonly route?: { readonly methods?: Readonly<Record<string, boolean>> };
  /** The router's own matching: false, or what the path's parameters were named. */
  match(path: string): false | { readonly keys?: readonly string[] };
}

/** The methods of a hub's HTTP resources. Nest registers its middleware as routes for every method (`_all`). */
const HUB_METHODS = ['get', 'post', 'delete'];

/**
 * Moves the layer just added (the stack's last) before the first route that would take a
 * request on one of `paths` from it: a route of GET, POST or DELETE whose path has a parameter
 * or a wildcard (a catch-all, an SPA fallback). Everything before that route (every middleware,
 * the routes with literal paths) still comes first.
 */
export function placeBeforeCatchAlls(stack: RouterLayer[], paths: readonly string[]): void {
  const shadowing = stack.findIndex((layer, index) => index < stack.length - 1 && wouldTake(layer, paths));
  if (shadowing < 0) return;
  const [added] = stack.splice(stack.length - 1, 1);
  stack.splice(shadowing, 0, added);
}

function wouldTake(layer: RouterLayer, paths: readonly string[]): boolean {
  const methods = layer.route?.methods;
  if (!methods || !HUB_METHODS.some((method) => methods[method])) return false;
  return paths.some((path) => {
    const matched = layer.match(path);
    return matched !== false && (matched.keys?.length ?? 0) > 0;
  });
}
