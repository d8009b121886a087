import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
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
const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url?.startsWith(FLOOR_NEGOTIATE)) return negotiateFloor(request, response);
  response.writeHead(404).end();
});
const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
// Routed here rather than by ws's `path` option, which would refuse the floor's path.
server.on('upgrade', (request: IncomingMessage, socket, head) => {
  const path = request.url?.split('?', 1)[0];
  if (path !== '/ws' && path !== FLOOR) return socket.destroy();
  sockets.handleUpgrade(request, socket, head, (webSocket) => sockets.emit('connection', webSocket, request));
});

keepHeartbeat(sockets);

sockets.on('connection', (socket, request: IncomingMessage) => {
  if (request.url?.startsWith(FLOOR)) return answerHandshake(socket);
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

/**
 * The floor of a SignalR connect, for the connect scenario: its exchanges and nothing else, on
 * `/floor`. Negotiate is answered with fresh unguessable ids (no authentication, no sealed
 * token, no framework), the upgrade is taken as is, the handshake is parsed and answered.
 */
const FLOOR = '/floor';
const FLOOR_NEGOTIATE = `${FLOOR}/negotiate`;
const RS = '\u001e';
const WEBSOCKETS_ONLY = [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }];

function negotiateFloor(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  const ids = randomBytes(32);
  const body = JSON.stringify({
    negotiateVersion: 1,
    connectionId: ids.toString('base64url', 0, 16),
    connectionToken: ids.toString('base64url', 16),
    availableTransports: WEBSOCKETS_ONLY,
  });
  response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

function answerHandshake(socket: WebSocket): void {
  socket.on('error', () => undefined);
  socket.once('message', (data: Buffer) => {
    const text = data.toString('utf8');
    const asked = JSON.parse(text.slice(0, text.indexOf(RS))) as { protocol?: string };
    socket.send(asked.protocol === 'json' ? `{}${RS}` : `{"error":"unsupported protocol"}${RS}`);
  });
}

server.listen(0, '127.0.0.1', () => serveControl((server.address() as AddressInfo).port, () => sockets.clients.size));
