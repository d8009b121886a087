import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { BENCH_LOGGER, serveControl } from './control.js';

/** (b) A Nest gateway on @nestjs/platform-ws with the same handlers as (a). */
@WebSocketGateway({ path: '/ws', perMessageDeflate: false })
class BenchGateway implements OnGatewayDisconnect<WebSocket> {
  private readonly groups = new Map<string, Set<WebSocket>>();
  private readonly memberships = new WeakMap<WebSocket, string[]>();

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): { event: string; data: unknown } {
    return { event: 'echo', data };
  }

  @SubscribeMessage('join')
  join(@ConnectedSocket() socket: WebSocket, @MessageBody() group: string): { event: string; data: unknown } {
    let members = this.groups.get(group);
    if (!members) this.groups.set(group, (members = new Set()));
    members.add(socket);
    this.memberships.set(socket, [...(this.memberships.get(socket) ?? []), group]);
    return { event: 'joined', data: group };
  }

  @SubscribeMessage('broadcast')
  broadcast(@MessageBody() body: { g: string; p: unknown }): void {
    const frame = Buffer.from(JSON.stringify({ event: 'tick', data: body.p }));
    for (const member of this.groups.get(body.g) ?? []) member.send(frame, { binary: false });
  }

  handleDisconnect(socket: WebSocket): void {
    for (const group of this.memberships.get(socket) ?? []) this.groups.get(group)?.delete(socket);
  }
}

@Module({ providers: [BenchGateway] })
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: BENCH_LOGGER });
app.useWebSocketAdapter(new WsAdapter(app));
await app.listen(0, '127.0.0.1');
serveControl((app.getHttpServer().address() as AddressInfo).port);
