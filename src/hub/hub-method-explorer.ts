import { isObservable, Observable } from 'rxjs';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import { HUB_METHOD_METADATA, HUB_UPLOAD_STREAM_PARAMS_METADATA, type HubMethodMetadata } from './hub-metadata.js';
import { recordedParameters, recordHubArguments } from './nest-internals.js';

export interface UploadStreamParameter {
  readonly index: number;
  readonly asObservable: boolean;
}

export interface HubMethodDescriptor {
  readonly methodName: string;
  readonly wireName: string;
  readonly streaming: boolean;
  /** How many arguments the client must send (upload streams excluded). */
  readonly argumentCount: number;
  /** Declared type of each argument, where TypeScript recorded one (the method has a decorator). */
  readonly argumentTypes: readonly unknown[];
  readonly uploadStreams: readonly UploadStreamParameter[];
}

// Lifecycle hooks of Nest and of hubs are never callable from a client.
const RESERVED_METHOD_NAMES = new Set([
  'constructor',
  'onConnected',
  'onDisconnected',
  'onModuleInit',
  'onModuleDestroy',
  'onApplicationBootstrap',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
  'afterInit',
  'handleConnection',
  'handleDisconnect',
]);

const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

/**
 * Finds the callable methods of a hub class once, at start-up. TypeScript's `private` does not
 * exist at run time, so names starting with `_` are excluded as well as `#private` methods.
 */
export function exploreHubMethods(hubClass: Function): Map<string, HubMethodDescriptor> {
  const methods = new Map<string, HubMethodDescriptor>();
  for (const methodName of collectMethodNames(hubClass.prototype)) {
    const method = hubClass.prototype[methodName] as Function;
    const metadata: HubMethodMetadata = Reflect.getMetadata(HUB_METHOD_METADATA, method) ?? {};
    if (metadata.exclude) continue;
    const descriptor = describeMethod(hubClass, methodName, method, metadata);
    const key = descriptor.wireName.toLowerCase();
    const existing = methods.get(key);
    if (existing) {
      throw new SignalRError(
        SignalRErrorCode.DuplicateHubMethod,
        `Hub ${hubClass.name} has two methods named '${descriptor.wireName}' (case-insensitively): ${existing.methodName} and ${methodName}`,
      );
    }
    methods.set(key, descriptor);
  }
  return methods;
}

function collectMethodNames(prototype: object): string[] {
  const names = new Set<string>();
  for (let proto = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof descriptor?.value !== 'function') continue;
      if (RESERVED_METHOD_NAMES.has(name) || name.startsWith('_')) continue;
      names.add(name);
    }
  }
  return [...names];
}

function describeMethod(hubClass: Function, methodName: string, method: Function, metadata: HubMethodMetadata): HubMethodDescriptor {
  const paramTypes: unknown[] = Reflect.getMetadata('design:paramtypes', hubClass.prototype, methodName) ?? [];
  // Entries of our own from an earlier exploration (another app in the same process) are redone.
  const decoratedIndexes = new Set(
    recordedParameters(hubClass, methodName)
      .filter((parameter) => parameter.custom || !parameter.hubArgument)
      .map((parameter) => parameter.index),
  );
  const parameterCount = Math.max(paramTypes.length, method.length, ...[...decoratedIndexes].map((i) => i + 1));

  const uploadIndexes: number[] = Reflect.getMetadata(HUB_UPLOAD_STREAM_PARAMS_METADATA, hubClass, methodName) ?? [];
  const uploadStreams = uploadIndexes
    .toSorted((a, b) => a - b)
    .map((index) => ({ index, asObservable: paramTypes[index] === Observable }));

  const argumentIndexes: number[] = [];
  for (let index = 0; index < parameterCount; index++) {
    if (!decoratedIndexes.has(index)) argumentIndexes.push(index);
  }
  // Nest applies pipes (validation included) to every parameter it has metadata for.
  recordHubArguments(hubClass, methodName, argumentIndexes);
  const argumentTypes = argumentIndexes.map((index) => paramTypes[index]);

  return {
    methodName,
    wireName: metadata.name ?? methodName,
    streaming: metadata.stream ?? isStreamingByDeclaration(hubClass, methodName, method),
    argumentCount: argumentTypes.length,
    argumentTypes,
    uploadStreams,
  };
}

function isStreamingByDeclaration(hubClass: Function, methodName: string, method: Function): boolean {
  if (method instanceof AsyncGeneratorFunction) return true;
  const returnType: unknown = Reflect.getMetadata('design:returntype', hubClass.prototype, methodName);
  return returnType === Observable;
}

/** True for values a streaming method may return. */
export function isStreamResult(value: unknown): value is AsyncIterable<unknown> | Observable<unknown> {
  return isObservable(value) || (typeof value === 'object' && value !== null && Symbol.asyncIterator in value);
}
