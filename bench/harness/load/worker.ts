import type { WebSocket } from 'ws';
import { nowMicros, type RoundEvent, type WorkerReply, type WorkerRequest } from '../ipc.js';
import { dialectFor, type ClientEvent, type Dialect } from './dialects.js';

/**
 * A load process, forked by the orchestrator: holds its share of the connections and drives
 * them on request. Every number it reports is counted here, never estimated.
 */

interface Connection {
  readonly socket: WebSocket;
  inFlight: number;
  seq: number;
}

type EventHandler = (connection: Connection, event: ClientEvent, receivedAt: number) => void;

let dialect: Dialect | undefined;
let port = 0;
const connections: Connection[] = [];
let sender: WebSocket | undefined;
let onEvent: EventHandler = () => undefined;
let protocolErrors = 0;
let lastProtocolError = '';
let keepAliveTimer: NodeJS.Timeout | undefined;
let filler = '';
const KEEP_ALIVE_SECONDS = 20;

function reply(message: WorkerReply | RoundEvent): void {
  process.send!(message);
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (result) => reply({ id: request.id, ...result }),
    (error: Error) => reply({ id: request.id, error: error.stack ?? error.message }),
  );
});

process.on('disconnect', () => process.exit(0));

async function handle(request: WorkerRequest): Promise<Record<string, unknown>> {
  switch (request.cmd) {
    case 'setup':
      dialect = dialectFor(request.target, request.payloadBytes);
      port = request.port;
      filler = 'x'.repeat(request.payloadBytes);
      return {};
    case 'open':
      return open(request.count, request.concurrency, request.sender);
    case 'echo-start':
      return echoStart(request.depth);
    case 'echo-count':
      return { count: echoCompleted, errors: protocolErrors, lastError: lastProtocolError };
    case 'echo-stop':
      return echoStop();
    case 'join':
      return join(request.group);
    case 'fanout-arm':
      return fanoutArm(request.firstMeasuredRound);
    case 'send': {
      const sentAt = nowMicros();
      sender!.send(dialect!.broadcastFrame(request.group, { r: request.round, t: sentAt, s: filler }));
      return { sentAt };
    }
    case 'latencies':
      return { latencies: Float64Array.from(latencies), errors: protocolErrors, lastError: lastProtocolError };
    case 'connect-rate':
      return connectRate(request.durationMs, request.concurrency, request.tokens);
  }
}

function listen(connection: Connection): void {
  connection.socket.on('message', (data: Buffer, isBinary: boolean) => {
    const receivedAt = nowMicros();
    let events: ClientEvent[];
    try {
      events = dialect!.decode(data, isBinary, connection.socket);
    } catch (error) {
      protocolErrors++;
      lastProtocolError = (error as Error).message;
      return;
    }
    for (const event of events) {
      if (event.kind === 'error') {
        protocolErrors++;
        lastProtocolError = event.detail;
      }
      onEvent(connection, event, receivedAt);
    }
  });
  connection.socket.on('error', (error) => {
    protocolErrors++;
    lastProtocolError = error.message;
  });
  // Only counted while a scenario runs: the orchestrator stops the server, then kills this process.
  connection.socket.on('close', () => {
    protocolErrors++;
    lastProtocolError = 'connection closed by the server';
  });
}

/** Opens `count` connections, at most `concurrency` at a time; failures are counted, not thrown. */
async function open(count: number, concurrency: number, withSender: boolean): Promise<Record<string, unknown>> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < count) {
      next++;
      try {
        const socket = await dialect!.connect(port);
        const connection: Connection = { socket, inFlight: 0, seq: 0 };
        connections.push(connection);
        listen(connection);
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  if (withSender) {
    sender = await dialect!.connect(port);
    sender.on('message', () => undefined);
  }
  if (dialect!.keepAlive && !keepAliveTimer) {
    // SignalR servers close clients silent for 30 s. Each connection pings every 20 s, spread
    // over the seconds, and none before 20 s: the default scenarios end before any is sent.
    const frame = dialect!.keepAlive;
    let tick = 0;
    keepAliveTimer = setInterval(() => {
      if (++tick < KEEP_ALIVE_SECONDS) return;
      connections.forEach(({ socket }, index) => (tick + index) % KEEP_ALIVE_SECONDS === 0 && socket.send(frame));
      if (tick % KEEP_ALIVE_SECONDS === 0) sender?.send(frame);
    }, 1000);
  }
  return { opened: connections.length, failed, firstError, ms: performance.now() - started };
}

let echoRunning = false;
let echoCompleted = 0;

function echoStart(depth: number): Record<string, unknown> {
  echoRunning = true;
  echoCompleted = 0;
  const wire = dialect!;
  const send = (connection: Connection) => {
    connection.inFlight++;
    connection.socket.send(wire.echoFrame(++connection.seq));
  };
  onEvent = (connection, event) => {
    if (event.kind !== 'echo') return;
    echoCompleted++;
    connection.inFlight--;
    if (echoRunning) send(connection);
  };
  for (const connection of connections) for (let i = 0; i < depth; i++) send(connection);
  return {};
}

async function echoStop(): Promise<Record<string, unknown>> {
  echoRunning = false;
  const deadline = Date.now() + 10_000;
  while (connections.some((connection) => connection.inFlight > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const unanswered = connections.reduce((sum, connection) => sum + connection.inFlight, 0);
  return { count: echoCompleted, unanswered, errors: protocolErrors, lastError: lastProtocolError };
}

async function join(group: string): Promise<Record<string, unknown>> {
  let joined = 0;
  const done = new Promise<void>((resolve) => {
    onEvent = (_connection, event) => {
      if (event.kind === 'joined' && ++joined === connections.length) resolve();
    };
    if (connections.length === 0) resolve();
  });
  const frame = dialect!.joinFrame(group);
  for (const { socket } of connections) socket.send(frame);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 30_000).unref());
  await Promise.race([done, timeout]);
  return { joined };
}

let latencies: number[] = [];

function fanoutArm(firstMeasuredRound: number): Record<string, unknown> {
  latencies = [];
  const counts = new Map<number, number>();
  const lastAt = new Map<number, number>();
  const expected = connections.length;
  onEvent = (_connection, event, receivedAt) => {
    if (event.kind !== 'tick') return;
    if (event.round >= firstMeasuredRound) latencies.push(receivedAt - event.sentAt);
    const count = (counts.get(event.round) ?? 0) + 1;
    counts.set(event.round, count);
    lastAt.set(event.round, Math.max(lastAt.get(event.round) ?? 0, receivedAt));
    if (count === expected) reply({ event: 'round', round: event.round, lastAt: lastAt.get(event.round)! });
  };
  return { receivers: expected };
}

/** Loops that each open a connection (negotiate, upgrade, handshake), then close it, until time is up. */
async function connectRate(durationMs: number, concurrency: number, tokens: readonly string[]): Promise<Record<string, unknown>> {
  const deadline = performance.now() + durationMs;
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  let turn = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      const token = tokens.length > 0 ? tokens[turn++ % tokens.length] : undefined;
      try {
        const socket = await dialect!.connect(port, { token });
        completed++;
        socket.on('error', () => undefined);
        socket.close(1000);
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { completed, failed, firstError, ms: performance.now() - started };
}
