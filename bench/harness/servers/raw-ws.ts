import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveControl } from './control.js';
import { keepHeartbeat } from './heartbeat.js';

/**
 * (a) The practical limit: a bare `ws` server doing the least an application can: parse each JSON
 * message, answer an echo, keep group membership in a Map, serialize a broadcast once. A stream
 * is a timer sending items, as an application that never looks at `bufferedAmount` writes it.
 */
interface Message {
  readonly event: string;
  readonly data: unknown;
}

const groups = new Map<string, Set<WebSocket>>();
const memberships = new WeakMap<WebSocket, string[]>();
const server = createServer((_request, response) => response.writeHead(404).end());
const sockets = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });

keepHeartbeat(sockets);

sockets.on('connection', (socket) => {
  socket.on('message', (data: Buffer) => {
    let message: Message;
    try {
      message = JSON.parse(data.toString('utf8')) as Message;
    } catch {
      return;
    }
    switch (message.event) {
      case 'echo':
        socket.send(JSON.stringify({ event: 'echo', data: message.data }));
        return;
      case 'join': {
        const group = String(message.data);
        let members = groups.get(group);
        if (!members) groups.set(group, (members = new Set()));
        members.add(socket);
        memberships.set(socket, [...(memberships.get(socket) ?? []), group]);
        socket.send(JSON.stringify({ event: 'joined', data: group }));
        return;
      }
      case 'broadcast': {
        const { g, p } = message.data as { g: string; p: unknown };
        // Serialized and encoded once for the whole group, as a careful application would.
        const frame = Buffer.from(JSON.stringify({ event: 'tick', data: p }));
        for (const member of groups.get(g) ?? []) member.send(frame, { binary: false });
        return;
      }
      case 'stream':
        stream(socket, message.data as StreamRequest);
        return;
    }
  });
  socket.on('close', () => {
    for (const group of memberships.get(socket) ?? []) groups.get(group)?.delete(socket);
  });
  socket.on('error', () => undefined);
});

interface StreamRequest {
  readonly count: number;
  readonly itemBytes: number;
  readonly intervalMs: number;
}

function stream(socket: WebSocket, { count, itemBytes, intervalMs }: StreamRequest): void {
  const s = 'x'.repeat(itemBytes);
  let n = 0;
  const next = () => {
    if (n >= count || socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify({ event: 'item', data: { n: n++, s } }));
    if (intervalMs > 0) setTimeout(next, intervalMs);
    else setImmediate(next);
  };
  next();
}

server.listen(0, '127.0.0.1', () => serveControl((server.address() as AddressInfo).port, () => sockets.clients.size));
