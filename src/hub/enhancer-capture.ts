import type { CanActivate, NestInterceptor, PipeTransform } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';

/** Every guard, interceptor and pipe Nest resolved for one handler: globals, class, method, parameters. */
export interface ResolvedEnhancers {
  readonly guards: readonly CanActivate[];
  readonly interceptors: readonly NestInterceptor[];
  readonly pipes: readonly PipeTransform[];
  /** Pipes given to single parameters (`@Param('x', SomePipe)` style). */
  readonly parameterPipes: readonly PipeTransform[];
}

type Resolver = { create(...args: unknown[]): unknown[]; createConcreteContext(...args: unknown[]): unknown[] };

interface ContextCreatorInternals {
  readonly guardsContextCreator?: Resolver;
  readonly interceptorsContextCreator?: Resolver;
  readonly pipesContextCreator?: Resolver;
}

/**
 * Runs `build` (which calls `contextCreator.create`) while listening to what Nest resolves for
 * it, so the answer is Nest's own: the module the hub lives in, APP_GUARD providers,
 * `useGlobalGuards` and the rest, exactly as the pipeline will run them. Nest keeps these
 * collaborators in private fields: if they are not where expected, the answer is undefined and
 * the caller must keep the full pipeline.
 */
export function captureEnhancers<T>(contextCreator: ExternalContextCreator, build: () => T): { built: T; enhancers: ResolvedEnhancers | undefined } {
  const { guardsContextCreator: guards, interceptorsContextCreator: interceptors, pipesContextCreator: pipes } =
    contextCreator as unknown as ContextCreatorInternals;
  if (!isResolver(guards) || !isResolver(interceptors) || !isResolver(pipes)) return { built: build(), enhancers: undefined };
  const seen = { guards: [] as unknown[], interceptors: [] as unknown[], pipes: [] as unknown[], parameterPipes: [] as unknown[] };
  const restore = [listen(guards, seen.guards), listen(interceptors, seen.interceptors), listen(pipes, seen.pipes, seen.parameterPipes)];
  try {
    const built = build();
    return { built, enhancers: seen as unknown as ResolvedEnhancers };
  } finally {
    for (const undo of restore) undo();
  }
}

function isResolver(value: unknown): value is Resolver {
  const candidate = value as Partial<Resolver> | undefined;
  return typeof candidate?.create === 'function' && typeof candidate.createConcreteContext === 'function';
}

/**
 * Shadows `create` (the handler's own list) and `createConcreteContext` (which `create` uses
 * inside, and which resolves parameter pipes when called from outside) on the instance,
 * collecting what they return; returns the undo.
 */
function listen(resolver: Resolver, created: unknown[], concrete?: unknown[]): () => void {
  const { create, createConcreteContext } = resolver;
  let inCreate = false;
  resolver.create = function (this: Resolver, ...args: unknown[]) {
    inCreate = true;
    try {
      const result = create.apply(this, args);
      created.push(...result);
      return result;
    } finally {
      inCreate = false;
    }
  };
  resolver.createConcreteContext = function (this: Resolver, ...args: unknown[]) {
    const result = createConcreteContext.apply(this, args);
    if (!inCreate) (concrete ?? created).push(...result);
    return result;
  };
  return () => {
    for (const [name, original] of [['create', create], ['createConcreteContext', createConcreteContext]] as const) {
      delete (resolver as Partial<Resolver>)[name];
      if (resolver[name] !== original) resolver[name] = original;
    }
  };
}
