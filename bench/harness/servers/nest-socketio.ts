import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { AddressInfo } from 'node:net';
import { BENCH_LOGGER, serveControl } from './control.js';

/** The little of Socket.IO's server and socket types used here (socket.io is not a direct dependency). */
interface IoServer {
  to(room: string): { emit(event: string, ...args: unknown[]): boolean };
}
interface IoSocket {
  join(room: string): void | Promise<void>;
}

/**
 * (c) A Nest gateway on @nestjs/platform-socket.io: WebSocket transport only, no compression.
 * Echo answers through the acknowledgement, as a Socket.IO round trip does; rooms are groups.
 */
@WebSocketGateway({ transports: ['websocket'], perMessageDeflate: false })
class BenchGateway {
  @WebSocketServer() server!: IoServer;

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): unknown {
    return data;
  }

  @SubscribeMessage('join')
  async join(@ConnectedSocket() socket: IoSocket, @MessageBody() group: string): Promise<boolean> {
    await socket.join(group);
    return true;
  }

  @SubscribeMessage('broadcast')
  broadcast(@MessageBody() body: { g: string; p: unknown }): void {
    this.server.to(body.g).emit('tick', body.p);
  }
}

@Module({ providers: [BenchGateway] })
class BenchModule {}

const app = await NestFactory.create(BenchModule, { logger: BENCH_LOGGER });
app.useWebSocketAdapter(new IoAdapter(app));
await app.listen(0, '127.0.0.1');
serveControl((app.getHttpServer().address() as AddressInfo).port);
