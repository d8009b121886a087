import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { AddressInfo } from 'node:net';
import type { WebSocket, WebSocketServer as WsServer } from 'ws';
import { BENCH_LOGGER, serveControl } from './control.js';
import { keepHeartbeat } from './heartbeat.js';

/**
 * (b) A Nest gateway on @nestjs/platform-ws with the same handlers as (a). Where a scenario holds
 * idle connections (`BENCH_WS_HEARTBEAT_MS`), it runs (a)'s heartbeat: Nest's adapter has none.
 */
@WebSocketGateway({ path: '/ws', perMessageDeflate: false })
class BenchGateway implements OnGatewayInit<WsServer>, OnGatewayDisconnect<WebSocket> {
  @WebSocketServer() server!: WsServer;
  private readonly groups = new Map<string, Set<WebSocket>>();
  private readonly memberships = new WeakMap<WebSocket, string[]>();

  afterInit(server: WsServer): void {
    keepHeartbeat(server);
  }

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
const { server } = app.get(BenchGateway);
serveControl((app.getHttpServer().address() as AddressInfo).port, () => server.clients.size);
