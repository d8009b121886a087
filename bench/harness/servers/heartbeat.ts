import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Where a scenario holds idle connections (`BENCH_WS_HEARTBEAT_MS`), dead clients are found as
 * the `ws` README shows, the least that does what SignalR's keep-alive and client timeout do:
 * one timer pings every client and ends those that did not answer the last ping. Elsewhere it
 * would end the clients that the flow-control scenarios pause on purpose, so it stays off.
 */
export function keepHeartbeat(sockets: WebSocketServer): void {
  const heartbeatMs = Number(process.env.BENCH_WS_HEARTBEAT_MS ?? 0);
  if (heartbeatMs <= 0) return;
  const answeredPing = new WeakSet<WebSocket>();
  sockets.on('connection', (socket: WebSocket) => {
    answeredPing.add(socket);
    socket.on('pong', () => answeredPing.add(socket));
  });
  setInterval(() => {
    for (const socket of sockets.clients) {
      if (!answeredPing.delete(socket)) {
        socket.terminate();
        continue;
      }
      socket.ping();
    }
  }, heartbeatMs).unref();
}
