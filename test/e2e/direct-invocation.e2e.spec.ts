import {
  createParamDecorator,
  Injectable,
  Module,
  UseGuards,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { IsString, Length } from 'class-validator';
import {
  Authorize,
  Hub,
  HubMethod,
  HubEndpoints,
  SignalRModule,
  type HubCallerContext,
  type HubInvocationContext,
  type SignalRModuleOptions,
} from 'nestjs-signalr';
import { map, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS_REQUEST } from '../support/anonymous-request.js';
import { ClientPool } from '../support/client.js';
import { createHubApp, listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

/** Method names in the order their bodies ran. */
const ran: string[] = [];

class Greeting {
  @IsString()
  @Length(1, 5)
  text!: string;
}

const Shout = createParamDecorator((_: unknown, context: ExecutionContext) => String(context.switchToWs().getData<HubInvocationContext>().arguments[0]).toUpperCase());

@Injectable()
class DenyOddGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return Number(context.switchToWs().getData<HubInvocationContext>().arguments[0]) % 2 === 0;
  }
}

@Hub('/hubs/direct')
class DirectHub {
  plain(value: unknown): unknown {
    ran.push('plain');
    return value;
  }

  @HubMethod()
  typed(name: string, count: number, list: string[]): string {
    ran.push('typed');
    return `${name}${count}${list.length}`;
  }

  @Authorize({ roles: ['admin'] })
  adminOnly(value: unknown): unknown {
    ran.push('adminOnly');
    return value;
  }

  // A decorator makes TypeScript record the parameter types, which validation works from.
  @HubMethod()
  greet(greeting: Greeting): string {
    ran.push('greet');
    return greeting instanceof Greeting ? `class ${greeting.text}` : 'plain object';
  }

  shout(_value: string, @Shout() loud: string): string {
    ran.push('shout');
    return loud;
  }

  @UseGuards(DenyOddGuard)
  even(value: number): number {
    ran.push('even');
    return value;
  }
}

const caller: HubCallerContext = {
  connectionId: 'c',
  hubPath: '/hubs/direct',
  user: undefined,
  userIdentifier: undefined,
  request: ANONYMOUS_REQUEST,
  items: new Map(),
  abort: () => undefined,
};
const invocationOf = (target: string, args: unknown[]): HubInvocationContext =>
  ({ target, arguments: args, invocationId: '1', clients: {}, groups: {}, uploadStreamFor: () => undefined }) as unknown as HubInvocationContext;

/**
 * Whether the method body ran before `invoke` returned. Nest's pipeline awaits its guards
 * first, so a method behind it never has; the direct path calls it at once.
 */
async function runsWithinTheCall(app: INestApplication, method: string, args: unknown[]): Promise<boolean> {
  const runtime = app.get(HubEndpoints).endpointFor(DirectHub).connections;
  ran.length = 0;
  const pending = runtime.dispatcher.findMethod(method)!.invoke(caller, invocationOf(method, args));
  const within = ran.includes(method);
  await pending.catch(() => undefined);
  return within;
}

async function start(
  providers: Provider[] = [],
  configure: (app: INestApplication) => void = () => undefined,
  options: SignalRModuleOptions = {},
): Promise<RunningHubApp> {
  @Module({ imports: [SignalRModule.forRoot(options)], providers: [DirectHub, DenyOddGuard, ...providers] })
  class DirectAppModule {}
  const app = await createHubApp(DirectAppModule);
  configure(app);
  return listenOnLoopback(app);
}

describe('direct invocation: Nest\'s pipeline is skipped only when it would do nothing', () => {
  let server: RunningHubApp;
  const clients = new ClientPool();

  beforeAll(async () => {
    server = await start();
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('calls a method with no requirement, no DTO and no enhancer directly, with the same result', async () => {
    expect(await runsWithinTheCall(server.app, 'plain', [1])).toBe(true);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('Plain', { a: [1, 'x'] })).resolves.toEqual({ a: [1, 'x'] });
  });

  it('calls a method whose declared types validation leaves alone (string, number, array) directly', async () => {
    expect(await runsWithinTheCall(server.app, 'typed', ['a', 1, []])).toBe(true);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('Typed', 'n', 2, ['x', 'y'])).resolves.toBe('n22');
  });

  it('keeps the pipeline for @Authorize on the method, which is still enforced', async () => {
    expect(await runsWithinTheCall(server.app, 'adminOnly', [1])).toBe(false);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('AdminOnly', 1)).rejects.toThrow("Failed to invoke 'AdminOnly' because user is unauthorized");
  });

  it('keeps the pipeline for a DTO argument, which is still validated and transformed', async () => {
    expect(await runsWithinTheCall(server.app, 'greet', [{ text: 'hi' }])).toBe(false);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('Greet', { text: 'hi' })).resolves.toBe('class hi');
    await expect(client.invoke('Greet', { text: 'far too long' })).rejects.toThrow(/Invalid arguments.*text \(isLength\)/);
  });

  it('keeps the pipeline for an application\'s own parameter decorator', async () => {
    expect(await runsWithinTheCall(server.app, 'shout', ['a'])).toBe(false);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('Shout', 'hey')).resolves.toBe('HEY');
  });

  it('keeps the pipeline for a method guard, which still denies', async () => {
    expect(await runsWithinTheCall(server.app, 'even', [2])).toBe(false);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('Even', 3)).rejects.toThrow('unauthorized');
    await expect(client.invoke('Even', 4)).resolves.toBe(4);
  });
});

describe('direct invocation with validation.expectedType', () => {
  let server: RunningHubApp;
  const clients = new ClientPool();

  beforeAll(async () => {
    server = await start([], undefined, { validation: { expectedType: Greeting } });
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('keeps the pipeline for a plain method, whose argument is then checked against that type', async () => {
    expect(await runsWithinTheCall(server.app, 'plain', [{ text: 'hi' }])).toBe(false);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await expect(client.invoke('Plain', { text: 'hi' })).resolves.toEqual({ text: 'hi' });
    await expect(client.invoke('Plain', { text: 'far too long' })).rejects.toThrow(/Invalid arguments.*text \(isLength\)/);
  });
});

/** Global, so it also sees negotiate, an HTTP request, which it lets through. */
@Injectable()
class DenyTheWordGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'ws') return true;
    return context.switchToWs().getData<HubInvocationContext>().arguments[0] !== 'deny';
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value) => ({ wrapped: value })));
  }
}

@Injectable()
class UpperCasePipe implements PipeTransform {
  transform(value: unknown): unknown {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

type Check = (invoke: (value: string) => Promise<unknown>) => Promise<void>;
const guardDenies: Check = async (invoke) => {
  await expect(invoke('deny')).rejects.toThrow('unauthorized');
  await expect(invoke('ok')).resolves.toBe('ok');
};
const interceptorWraps: Check = async (invoke) => expect(invoke('x')).resolves.toEqual({ wrapped: 'x' });
const pipeTransforms: Check = async (invoke) => expect(invoke('x')).resolves.toBe('X');

describe.each<[string, Provider[], (app: INestApplication) => void, Check]>([
  ['app.useGlobalGuards', [], (app) => app.useGlobalGuards(new DenyTheWordGuard()), guardDenies],
  ['an APP_GUARD provider', [{ provide: APP_GUARD, useClass: DenyTheWordGuard }], () => undefined, guardDenies],
  ['app.useGlobalInterceptors', [], (app) => app.useGlobalInterceptors(new WrapInterceptor()), interceptorWraps],
  ['an APP_INTERCEPTOR provider', [{ provide: APP_INTERCEPTOR, useClass: WrapInterceptor }], () => undefined, interceptorWraps],
  ['app.useGlobalPipes', [], (app) => app.useGlobalPipes(new UpperCasePipe()), pipeTransforms],
  ['an APP_PIPE provider', [{ provide: APP_PIPE, useClass: UpperCasePipe }], () => undefined, pipeTransforms],
])('direct invocation with %s', (_label, providers, configure, check) => {
  let server: RunningHubApp;
  const clients = new ClientPool();

  beforeAll(async () => {
    server = await start(providers, configure);
  });

  afterEach(() => clients.stopAll());
  afterAll(() => server.close());

  it('keeps Nest\'s pipeline for a plain method, and the global enhancer runs', async () => {
    expect(await runsWithinTheCall(server.app, 'plain', ['ok'])).toBe(false);
    const client = await clients.connect(`${server.baseUrl}/hubs/direct`);
    await check((value) => client.invoke('Plain', value));
  });
});
