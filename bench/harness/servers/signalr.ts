import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PassportModule, PassportStrategy } from '@nestjs/passport';
import {
  Authorize,
  Caller,
  Clients,
  Groups,
  Hub,
  SignalRAdapter,
  SignalRModule,
  type GroupManager,
  type HubCallerClients,
  type HubCallerContext,
  type OnHubConnected,
  type OnHubDisconnected,
  redisLifetimeManager,
} from 'nestjs-signalr';
import { createSecretKey, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { BENCH_LOGGER, serveControl } from './control.js';
import type { OpenTelemetryCase } from '../options.js';
import { setUpOpenTelemetry } from './open-telemetry.js';

/**
 * (d) This package, through its public API only, with the defaults a user gets: fresh sealing
 * keys, a Passport JWT strategy, permessage-deflate off. JSON and MessagePack clients both come
 * here; the protocol is the client's choice in its handshake. With `BENCH_REDIS_URL` (the
 * cross-node and shards scenarios), hubs scale out over that Redis, and with
 * `BENCH_REDIS_CLUSTER_NODES` (comma-separated `host:port`, the shards scenario) over that Redis
 * Cluster, under `BENCH_REDIS_PREFIX`.
 */
const secret = process.env.BENCH_JWT_SECRET;
if (!secret) throw new Error('BENCH_JWT_SECRET is required (the orchestrator sets it).');
const channelPrefix = process.env.BENCH_REDIS_PREFIX ?? 'bench';
const clusterNodes = process.env.BENCH_REDIS_CLUSTER_NODES?.split(',');
const backplane = clusterNodes
  ? redisLifetimeManager({ cluster: { nodes: clusterNodes }, channelPrefix })
  : process.env.BENCH_REDIS_URL
    ? redisLifetimeManager({ url: process.env.BENCH_REDIS_URL, channelPrefix })
    : undefined;
const secretKey = createSecretKey(Buffer.from(secret));

@Injectable()
class BenchJwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor() {
    // As the sample app configures it: the secret as a key object (a string would be tried as a
    // PEM public key first on every verification), HS256 only.
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: secretKey as unknown as Buffer, algorithms: ['HS256'] });
  }

  validate(payload: { sub: string; exp?: number }): { sub: string; exp?: number } {
    return { sub: payload.sub, exp: payload.exp };
  }
}

/** Connections past their handshake and not yet ended, as the hub sees them. */
let connected = 0;

@Hub('/hubs/bench')
class BenchHub implements OnHubConnected, OnHubDisconnected {
  onConnected(): void {
    connected++;
  }

  onDisconnected(): void {
    connected--;
  }

  echo(x: unknown): unknown {
    return x;
  }

  /** A server-to-client stream of `count` items, one every `intervalMs` (0: every turn of the loop). */
  async *counter(count: number, itemBytes: number, intervalMs: number): AsyncGenerator<{ n: number; s: string }> {
    const s = 'x'.repeat(itemBytes);
    for (let n = 0; n < count; n++) {
      yield { n, s };
      await (intervalMs > 0 ? sleep(intervalMs) : new Promise((resolve) => setImmediate(resolve)));
    }
  }

  async joinGroup(name: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, name);
  }

  async broadcast(group: string, payload: unknown, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.group(group).send('tick', payload);
  }

  async broadcastAll(payload: unknown, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.all.send('tick', payload);
  }
}

/** The same hub behind JWT authentication, for the negotiate+connect scenario. */
@Hub('/hubs/secure')
@Authorize()
class SecureBenchHub {
  echo(x: unknown): unknown {
    return x;
  }
}

// Before the app: the package binds its telemetry to what is registered when its module starts.
const telemetry = await setUpOpenTelemetry((process.env.BENCH_OPENTELEMETRY ?? 'api') as OpenTelemetryCase);

@Module({
  imports: [PassportModule, SignalRModule.forRoot({ keys: [randomBytes(32)], authStrategies: ['jwt'], lifetimeManager: backplane, ...(telemetry !== undefined && { telemetry }) })],
  providers: [BenchJwtStrategy, BenchHub, SecureBenchHub],
})
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: BENCH_LOGGER });
app.useWebSocketAdapter(new SignalRAdapter(app));
await app.listen(0, '127.0.0.1');
await backplaneUp();
serveControl((app.getHttpServer().address() as AddressInfo).port, () => connected);

/** Ready means subscribed: a node that announced itself earlier would miss the first broadcasts. */
async function backplaneUp(): Promise<void> {
  if (!backplane) return;
  const deadline = Date.now() + 10_000;
  for (let health = backplane.health(); health.status !== 'up' || Object.keys(health.hubs).length === 0; health = backplane.health()) {
    if (Date.now() > deadline) throw new Error(`Redis backplane not up after 10 s: ${JSON.stringify(health)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
