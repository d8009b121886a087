import {
  createParamDecorator,
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type ArgumentMetadata,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE, ExternalContextCreator } from '@nestjs/core';
import { MessageBody } from '@nestjs/websockets';
import { Caller, Hub, HubAuthorizationGuard, HubValidationPipe, SignalRModule } from 'nestjs-signalr';
import { createRequire } from 'node:module';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureEnhancers, HUB_ARGUMENT_PARAM_TYPE, PARAMETER_METADATA_KEY, recordedParameters } from '../../src/hub/nest-internals.js';
import { ClientPool } from '../support/client.js';
import { createHubApp, listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

/**
 * Pins what src/hub/nest-internals.ts relies on in Nest's internals: when Nest changes them,
 * these fail with what moved and the version it moved in.
 */
const nestVersion: string = createRequire(import.meta.url)('@nestjs/core/package.json').version;
const whereNest = (what: string) => `Nest ${nestVersion} ${what} (src/hub/nest-internals.ts)`;

const shoutFactory = (data: unknown) => String(data).toUpperCase();
const Shout = createParamDecorator(shoutFactory);

class DecoratedMethods {
  method(_argument: unknown, @Shout('loud') _custom: unknown, @MessageBody() _body: unknown): void {}
}

describe('parameter decorators', () => {
  it("finds the application's own where Nest keeps them", () => {
    expect(
      recordedParameters(DecoratedMethods, 'method').toSorted((a, b) => a.index - b.index),
      whereNest(`no longer keeps parameter decorators under '${PARAMETER_METADATA_KEY}' as { index, data, factory } entries, custom ones marked by CUSTOM_ROUTE_ARGS_METADATA`),
    ).toEqual([
      { custom: true, index: 1, data: 'loud', factory: shoutFactory },
      { custom: false, index: 2, data: undefined, type: HUB_ARGUMENT_PARAM_TYPE, hubArgument: false },
    ]);
  });
});

const marks = () => {
  @Injectable()
  class Guard implements CanActivate {
    canActivate(): boolean {
      return true;
    }
  }
  @Injectable()
  class Interceptor implements NestInterceptor {
    intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
      return next.handle();
    }
  }
  @Injectable()
  class Pipe implements PipeTransform {
    transform(value: unknown): unknown {
      return value;
    }
  }
  return { Guard, Interceptor, Pipe };
};
const appWide = marks();
const outer = marks();
const inner = marks();
const onMethod = marks();
const onParameter = marks();

/** What Nest handed the pipe of `record`. */
const piped: Pick<ArgumentMetadata, 'type' | 'data' | 'metatype'>[] = [];

@Injectable()
class RecordingPipe implements PipeTransform {
  transform(value: unknown, { type, data, metatype }: ArgumentMetadata): unknown {
    piped.push({ type, data, metatype });
    return value;
  }
}

// Decorators run bottom-up: the inner ones before @Hub, the outer ones after it.
@UseGuards(outer.Guard)
@UseInterceptors(outer.Interceptor)
@UsePipes(outer.Pipe)
@Hub('/hubs/internals')
@UseGuards(inner.Guard)
@UseInterceptors(inner.Interceptor)
@UsePipes(inner.Pipe)
class InternalsHub {
  @UseGuards(onMethod.Guard)
  @UseInterceptors(onMethod.Interceptor)
  @UsePipes(onMethod.Pipe)
  enhanced(@Caller(onParameter.Pipe) _caller: unknown): void {}

  @UsePipes(RecordingPipe)
  record(text: string, count: number): string {
    return `${text}${count}`;
  }
}

const namesOf = (list: readonly object[] | undefined) => list?.map((item) => item.constructor);

describe('what Nest resolves for a hub method', () => {
  let server: RunningHubApp;
  let app: INestApplication;
  const clients = new ClientPool();

  beforeAll(async () => {
    @Module({
      imports: [SignalRModule.forRoot({})],
      providers: [
        InternalsHub,
        { provide: APP_GUARD, useClass: appWide.Guard },
        { provide: APP_INTERCEPTOR, useClass: appWide.Interceptor },
        { provide: APP_PIPE, useClass: appWide.Pipe },
      ],
    })
    class InternalsAppModule {}
    app = await createHubApp(InternalsAppModule);
    server = await listenOnLoopback(app);
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  const capture = () => {
    const contextCreator = app.get(ExternalContextCreator);
    const hub = app.get(InternalsHub);
    return captureEnhancers(contextCreator, () =>
      contextCreator.create(hub, hub.enhanced, 'enhanced', PARAMETER_METADATA_KEY, undefined, undefined, undefined, { guards: true, interceptors: true, filters: false }, 'ws'),
    ).enhancers;
  };

  it('is seen in full: globals, class and method enhancers, parameter pipes', () => {
    const enhancers = capture();
    expect(
      enhancers,
      whereNest('no longer keeps guardsContextCreator, interceptorsContextCreator and pipesContextCreator (each with create and createConcreteContext) in ExternalContextCreator: every hub method now takes the full pipeline'),
    ).toBeDefined();
    const seen = whereNest('resolves enhancers without the calls captureEnhancers listens to (create, createConcreteContext): a capture that misses one could skip it');
    expect(namesOf(enhancers?.interceptors), seen).toEqual([appWide.Interceptor, inner.Interceptor, outer.Interceptor, onMethod.Interceptor]);
    expect(namesOf(enhancers?.parameterPipes), seen).toEqual([onParameter.Pipe]);
  });

  it("runs the package's guard and pipe before the hub's own, whichever side of @Hub those are declared", () => {
    const enhancers = capture();
    expect(
      namesOf(enhancers?.guards),
      whereNest("no longer keeps class guards where addFirstClassGuard reorders them (GUARDS_METADATA): the authorization guard runs after the hub's own"),
    ).toEqual([appWide.Guard, HubAuthorizationGuard, inner.Guard, outer.Guard, onMethod.Guard]);
    expect(
      namesOf(enhancers?.pipes),
      whereNest("no longer keeps class pipes where addFirstClassPipe reorders them (PIPES_METADATA): argument validation runs after the hub's own pipes"),
    ).toEqual([appWide.Pipe, HubValidationPipe, inner.Pipe, outer.Pipe, onMethod.Pipe]);
  });

  it('hands hub arguments to pipes as bodies, with their position and declared type', async () => {
    const client = await clients.connect(`${server.baseUrl}/hubs/internals`);
    piped.length = 0;
    await expect(client.invoke('Record', 'n', 2)).resolves.toBe('n2');
    expect(
      piped.toSorted((a, b) => Number(a.data) - Number(b.data)),
      whereNest(`no longer reads hub arguments recorded under '${PARAMETER_METADATA_KEY}' with type ${HUB_ARGUMENT_PARAM_TYPE} as bodies`),
    ).toEqual([
      { type: 'body', data: 0, metatype: String },
      { type: 'body', data: 1, metatype: Number },
    ]);
  });
});
