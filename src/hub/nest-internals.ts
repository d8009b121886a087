import { UseGuards, UsePipes, type CanActivate, type NestInterceptor, type PipeTransform } from '@nestjs/common';
import { CUSTOM_ROUTE_ARGS_METADATA, GUARDS_METADATA, PIPES_METADATA, ROUTE_ARGS_METADATA, RouteParamtypes } from '@nestjs/common/internal';
import type { ExternalContextCreator } from '@nestjs/core';

// Every place the package relies on Nest internals, for want of a public way. Each one is pinned
// by test/hub/nest-internals.spec.ts, which names what moved and the Nest version it moved in.

/**
 * The metadata key of Nest's parameter decorators. Nest offers no public way to list the
 * decorators of a method, yet the explorer must know which parameters the application's own
 * decorators fill (the rest are hub arguments), and Nest's pipeline must find the hub arguments
 * where it finds those decorators. Only `@nestjs/common/internal` exports it.
 */
export const PARAMETER_METADATA_KEY: string = ROUTE_ARGS_METADATA;

/**
 * Nest's parameter type of a hub argument: the "body" type, since arguments are the message's
 * payload and ValidationPipe validates bodies only.
 */
export const HUB_ARGUMENT_PARAM_TYPE: number = RouteParamtypes.BODY;

interface ParameterEntry {
  readonly index: number;
  readonly data?: unknown;
  readonly factory?: Function;
  readonly pipes?: unknown[];
  readonly hubArgument?: true;
}

/** A parameter Nest will fill, as a decorator (or `recordHubArguments`) declared it. */
export type RecordedParameter =
  | { readonly custom: true; readonly index: number; readonly data: unknown; readonly factory: Function | undefined }
  | { readonly custom: false; readonly index: number; readonly data: unknown; readonly type: number; readonly hubArgument: boolean };

/** Every parameter of the method that Nest's pipeline fills: `createParamDecorator` ones are custom. */
export function recordedParameters(hubClass: Function, methodName: string): RecordedParameter[] {
  return Object.entries(parameterEntries(hubClass, methodName)).map(([key, { index, data, factory, hubArgument }]) =>
    key.includes(CUSTOM_ROUTE_ARGS_METADATA)
      ? { custom: true, index, data, factory }
      : { custom: false, index, data, type: Number(key.split(':')[0]), hubArgument: hubArgument === true },
  );
}

/**
 * Declares the parameters at `indexes` hub arguments, the n-th filled with the message's n-th
 * argument, so that Nest's pipeline fills them and runs its pipes (validation) over them.
 */
export function recordHubArguments(hubClass: Function, methodName: string, indexes: readonly number[]): void {
  const entries = { ...parameterEntries(hubClass, methodName) };
  indexes.forEach((index, position) => {
    entries[`${HUB_ARGUMENT_PARAM_TYPE}:${index}`] = { index, data: position, pipes: [], hubArgument: true };
  });
  Reflect.defineMetadata(ROUTE_ARGS_METADATA, entries, hubClass, methodName);
}

function parameterEntries(hubClass: Function, methodName: string): Record<string, ParameterEntry> {
  return Reflect.getMetadata(ROUTE_ARGS_METADATA, hubClass, methodName) ?? {};
}

/**
 * Adds `guard` to the class's guards, first whatever order the decorators ran in. `@UseGuards`
 * appends and Nest offers no way to reorder; if its metadata is not where expected, the guard
 * still runs, after the class's other guards.
 */
export function addFirstClassGuard(target: Function, guard: Function): void {
  UseGuards(guard)(target);
  moveToFront(GUARDS_METADATA, guard, target);
}

/** As `addFirstClassGuard`, for a pipe. */
export function addFirstClassPipe(target: Function, pipe: Function): void {
  UsePipes(pipe)(target);
  moveToFront(PIPES_METADATA, pipe, target);
}

function moveToFront(key: string, enhancer: Function, target: Function): void {
  const list: unknown = Reflect.getMetadata(key, target);
  if (!Array.isArray(list) || !list.includes(enhancer)) return;
  Reflect.defineMetadata(key, [enhancer, ...list.filter((item) => item !== enhancer)], target);
}

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
 * `useGlobalGuards` and the rest, exactly as the pipeline will run them. Nest has no public way
 * to ask what it resolved, and keeps the collaborators that resolve in private fields of
 * ExternalContextCreator: if they are not where expected, the answer is undefined and the caller
 * must keep the full pipeline.
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
