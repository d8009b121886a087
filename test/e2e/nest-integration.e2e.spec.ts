import {
  Controller,
  Injectable,
  Module,
  Post,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import {
  Caller,
  Clients,
  Hub,
  HubContext,
  HubMethod,
  InjectHubContext,
  SignalRModule,
  type HubCallerClients,
  type HubCallerContext,
  type HubInvocationContext,
} from 'nestjs-signalr';
import { map, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, nextCall, WIRE_PROTOCOLS } from '../support/client.js';
import { createHubApp, listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

@Injectable()
class OnlyEvenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const caller = context.switchToWs().getClient<HubCallerContext>();
    const invocation = context.switchToWs().getData<HubInvocationContext>();
    return typeof caller.connectionId === 'string' && Number(invocation.arguments[0]) % 2 === 0;
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value) => ({ wrapped: value })));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Hub('/hubs/nest', { maximumParallelInvocationsPerClient: 2, clientResultTimeoutMs: 200 })
class NestHub {
  @UseGuards(OnlyEvenGuard)
  even(value: number): number {
    return value;
  }

  @UseInterceptors(WrapInterceptor)
  wrapped(value: string): string {
    return value;
  }

  @HubMethod({ stream: true })
  numbers(): Observable<number> {
    return 'not a stream' as unknown as Observable<number>;
  }

  async slow(label: string, ms: number): Promise<string> {
    await sleep(ms);
    return label;
  }

  async askSilentClient(@Clients() clients: HubCallerClients): Promise<unknown> {
    return clients.caller.invoke('NeverAnswered');
  }

  id(@Caller() caller: HubCallerContext): string {
    return caller.connectionId;
  }
}

@Hub('/hubs/serial')
class SerialHub {
  async slow(label: string, ms: number): Promise<string> {
    await sleep(ms);
    return label;
  }
}

/** Sends from outside any hub, the way an application service would. */
@Injectable()
class Notifier {
  constructor(@InjectHubContext(NestHub) private readonly hub: HubContext) {}

  notifyAll(text: string): Promise<void> {
    return this.hub.clients.all.send('Notice', text);
  }
}

@Controller('notify')
class NotifyController {
  constructor(private readonly notifier: Notifier) {}

  @Post()
  async notify(): Promise<void> {
    await this.notifier.notifyAll('from a controller');
  }
}

@Module({
  imports: [SignalRModule.forFeature([NestHub])],
  providers: [NestHub, SerialHub, Notifier, OnlyEvenGuard],
  controllers: [NotifyController],
})
class FeatureModule {}

@Module({
  imports: [
    SignalRModule.forRootAsync({
      useFactory: async () => ({ keepAliveIntervalMs: 5000 }),
    }),
    FeatureModule,
  ],
})
class RootModule {}

describe.each(WIRE_PROTOCOLS)('Nest integration (%s): guards, interceptors, async options, per-hub options, hub context', (protocol) => {
  let server: RunningHubApp;
  const clients = new ClientPool(protocol);
  const connect = (path: string) => clients.connect(`${server.baseUrl}${path}`);

  beforeAll(async () => {
    server = await listenOnLoopback(await createHubApp(RootModule));
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('runs guards with the caller and the invocation; a denial fails only that call', async () => {
    const client = await connect('/hubs/nest');
    await expect(client.invoke('Even', 4)).resolves.toBe(4);
    await expect(client.invoke('Even', 3)).rejects.toThrow("Failed to invoke 'Even' because user is unauthorized");
    await expect(client.invoke('Id')).resolves.toBe(client.connectionId);
  });

  it('runs interceptors around hub methods', async () => {
    const client = await connect('/hubs/nest');
    await expect(client.invoke('Wrapped', 'x')).resolves.toEqual({ wrapped: 'x' });
  });

  it('reports a streaming method that returns no stream as a sanitized error', async () => {
    const client = await connect('/hubs/nest');
    const error = await new Promise<Error>((resolve) =>
      client.stream('Numbers').subscribe({ next: () => undefined, complete: () => undefined, error: resolve }),
    );
    expect(error.message).toBe("An unexpected error occurred invoking 'Numbers' on the server.");
  });

  it('applies per-hub limits: two invocations at once on one hub, one at a time on the other', async () => {
    const parallel = await connect('/hubs/nest');
    const order: string[] = [];
    await Promise.all([
      parallel.invoke('Slow', 'slow', 150).then((label) => order.push(label)),
      parallel.invoke('Slow', 'fast', 1).then((label) => order.push(label)),
    ]);
    expect(order).toEqual(['fast', 'slow']);

    const serial = await connect('/hubs/serial');
    const serialOrder: string[] = [];
    await Promise.all([
      serial.invoke('Slow', 'slow', 150).then((label) => serialOrder.push(label)),
      serial.invoke('Slow', 'fast', 1).then((label) => serialOrder.push(label)),
    ]);
    expect(serialOrder).toEqual(['slow', 'fast']);
  });

  it('times out a client result the client never gives', async () => {
    const client = await connect('/hubs/nest');
    client.on('NeverAnswered', () => new Promise(() => undefined));
    const started = Date.now();
    await expect(client.invoke('AskSilentClient')).rejects.toThrow(
      "An unexpected error occurred invoking 'AskSilentClient' on the server.",
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('sends from an injected HubContext outside any hub', async () => {
    const client = await connect('/hubs/nest');
    const notice = nextCall(client, 'Notice');
    const response = await fetch(`${server.baseUrl}/notify`, { method: 'POST' });
    expect(response.status).toBe(201);
    await expect(notice).resolves.toEqual(['from a controller']);
  });
});
