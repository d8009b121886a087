import type { WebSocket } from 'ws';
import { nowMicros, type RoundEvent, type WorkerReply, type WorkerRequest } from '../ipc.js';
import { dialectFor, type ClientEvent, type ConnectOptions, type Dialect } from './dialects.js';

/**
 * A load process, forked by the orchestrator: holds its share of the connections and drives
 * them on request. Every number it reports is counted here, never estimated.
 */

interface Connection {
  readonly socket: WebSocket;
  inFlight: number;
  seq: number;
  closed: boolean;
  /** The error of the last Close message or failed completion the server sent, if any. */
  lastError?: string;
}

type EventHandler = (connection: Connection, event: ClientEvent, receivedAt: number) => void;

let dialect: Dialect | undefined;
let port = 0;
const connections: Connection[] = [];
/** Connections that stopped reading (`pause`): out of every measurement, kept alive with keep-alives. */
const paused: Connection[] = [];
/** Connections closed since the last `count-closes`. */
let closes = 0;
let sender: WebSocket | undefined;
let onEvent: EventHandler = () => undefined;
let protocolErrors = 0;
let lastProtocolError = '';
let keepAliveTimer: NodeJS.Timeout | undefined;
let filler = '';
/** This package's connections opened for a scenario skip negotiate (`--skip-negotiation`). */
let openWithoutNegotiate = false;
const KEEP_ALIVE_SECONDS = 15;
const FIRST_KEEP_ALIVE_SECONDS = 10;

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
      openWithoutNegotiate = request.skipNegotiation === true;
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
      return connectRate(request.durationMs, request.concurrency, request.tokens, { skipNegotiation: request.skipNegotiation, floor: request.floor });
    case 'stream':
      return startStreams(request.count, request.itemBytes, request.intervalMs);
    case 'pause':
      return pause(request.count);
    case 'resume-paused':
      return resumePaused(request.waitMs);
    case 'room-start':
      return roomStart(request.group, request.ratePerSecond);
    case 'room-count':
      return { sent: roomSent, received: roomReceived, closes };
    case 'room-stop':
      return roomStop();
    case 'join-each':
      return joinEach(request.prefix);
    case 'spread-start':
      return spreadStart(request.prefix, request.ratePerSecond, request.toAll);
    case 'room-mark':
      roomSent = roomReceived = 0;
      roomLatencies = [];
      return {};
    case 'count-closes': {
      const counted = closes;
      closes = 0;
      return { closes: counted };
    }
    case 'close-all':
      return closeAll();
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
        lastProtocolError = connection.lastError = event.detail;
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
    connection.closed = true;
    closes++;
  });
}

/** Opens `count` connections, at most `concurrency` at a time; failures are counted, not thrown. */
async function open(count: number, concurrency: number, withSender: boolean): Promise<Record<string, unknown>> {
  const started = performance.now();
  // Running before the first connection opens: opening thousands takes longer than a server waits.
  startKeepAlives();
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (next < count) {
      next++;
      try {
        const socket = await dialect!.connect(port, { skipNegotiation: openWithoutNegotiate });
        const connection: Connection = { socket, inFlight: 0, seq: 0, closed: false };
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
  return { opened: connections.length, failed, firstError, ms: performance.now() - started };
}

/**
 * SignalR servers close clients silent for 30 s. Each connection pings every 15 s, as the
 * official client does, spread over the seconds; none in the first 10 s, which the short
 * scenarios take whole. A connection is silent for at most 25 s, however long opening took.
 */
function startKeepAlives(): void {
  const frame = dialect!.keepAlive;
  if (!frame || keepAliveTimer) return;
  let tick = 0;
  // A client that stopped reading still writes: it is slow, not silent.
  const ping = ({ socket }: Connection, index: number) => (tick + index) % KEEP_ALIVE_SECONDS === 0 && socket.send(frame);
  keepAliveTimer = setInterval(() => {
    if (++tick < FIRST_KEEP_ALIVE_SECONDS) return;
    connections.forEach(ping);
    paused.forEach(ping);
    if (tick % KEEP_ALIVE_SECONDS === 0) sender?.send(frame);
  }, 1000);
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
    await sleep(10);
  }
  const unanswered = connections.reduce((sum, connection) => sum + connection.inFlight, 0);
  return { count: echoCompleted, unanswered, errors: protocolErrors, lastError: lastProtocolError };
}

function join(group: string): Promise<Record<string, unknown>> {
  const frame = dialect!.joinFrame(group);
  return joinAll(() => frame);
}

function joinEach(prefix: string): Promise<Record<string, unknown>> {
  return joinAll((index) => dialect!.joinFrame(`${prefix}${index}`));
}

async function joinAll(frameOf: (index: number) => string | Uint8Array): Promise<Record<string, unknown>> {
  let joined = 0;
  const done = new Promise<void>((resolve) => {
    onEvent = (_connection, event) => {
      if (event.kind === 'joined' && ++joined === connections.length) resolve();
    };
    if (connections.length === 0) resolve();
  });
  connections.forEach(({ socket }, index) => socket.send(frameOf(index)));
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

/** Loops that each open a connection (negotiate unless skipped, upgrade, handshake), then close it, until time is up. */
async function connectRate(durationMs: number, concurrency: number, tokens: readonly string[], how: ConnectOptions): Promise<Record<string, unknown>> {
  const deadline = performance.now() + durationMs;
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  let turn = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      const token = tokens.length > 0 ? tokens[turn++ % tokens.length] : undefined;
      try {
        const socket = await dialect!.connect(port, { ...how, token });
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
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return { completed, failed, firstError, ms: performance.now() - started, cpu: cpu.user + cpu.system };
}

function startStreams(count: number, itemBytes: number, intervalMs: number): Record<string, unknown> {
  const frame = dialect!.streamFrame?.(count, itemBytes, intervalMs);
  if (frame === undefined) throw new Error('this server has no streams');
  for (const { socket } of connections) socket.send(frame);
  return { streams: connections.length };
}

/** The socket stops reading (the TCP window closes once the kernel's buffers are full). */
function pause(count: number): Record<string, unknown> {
  const chosen = connections.splice(0, count);
  for (const { socket } of chosen) socket.pause();
  paused.push(...chosen);
  return { paused: paused.length };
}

/** Reads again and waits for the server's close of each paused connection, up to `waitMs`. */
async function resumePaused(waitMs: number): Promise<Record<string, unknown>> {
  for (const { socket } of paused) socket.resume();
  const deadline = Date.now() + waitMs;
  while (paused.some((connection) => !connection.closed) && Date.now() < deadline) await sleep(50);
  const reasons: Record<string, number> = {};
  for (const connection of paused.filter(({ closed }) => closed)) {
    const reason = connection.lastError ?? 'ended without a Close message';
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return { paused: paused.length, closed: paused.filter(({ closed }) => closed).length, reasons };
}

let roomTimer: NodeJS.Timeout | undefined;
let roomSent = 0;
let roomReceived = 0;
let roomLatencies: number[] = [];
const ROOM_TICK_MS = 10;

/** Broadcasts at a steady rate, taking turns among the connections; every receipt is counted. */
function roomStart(group: string, ratePerSecond: number): Record<string, unknown> {
  return sendSteadily(ratePerSecond, () => group);
}

/** As roomStart, each connection to its own group of `join-each`, or to all. */
function spreadStart(prefix: string, ratePerSecond: number, toAll: boolean): Record<string, unknown> {
  if (toAll && !dialect!.broadcastAllFrame) throw new Error('this server cannot send to all');
  return sendSteadily(ratePerSecond, (index) => (toAll ? undefined : `${prefix}${index}`));
}

/** `ratePerSecond` ticks, taking turns among the connections: to the group `groupOf` names, or (undefined) to all. */
function sendSteadily(ratePerSecond: number, groupOf: (index: number) => string | undefined): Record<string, unknown> {
  roomSent = roomReceived = 0;
  roomLatencies = [];
  onEvent = (_connection, event, receivedAt) => {
    if (event.kind !== 'tick') return;
    roomReceived++;
    roomLatencies.push(receivedAt - event.sentAt);
  };
  const started = performance.now();
  let turn = 0;
  roomTimer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * ratePerSecond) / 1000);
    for (; turn < due; turn++) {
      const index = turn % connections.length;
      const group = groupOf(index);
      const payload = { r: turn, t: nowMicros(), s: filler };
      connections[index].socket.send(group === undefined ? dialect!.broadcastAllFrame!(payload) : dialect!.broadcastFrame(group, payload));
      roomSent++;
    }
  }, ROOM_TICK_MS);
  return { senders: connections.length };
}

/** Stops sending; receipts still under way get a moment to arrive. */
async function roomStop(): Promise<Record<string, unknown>> {
  clearInterval(roomTimer);
  await sleep(500);
  return { sent: roomSent, received: roomReceived, closes, latencies: Float64Array.from(roomLatencies) };
}

/** Every client leaves with a close frame, as a closing browser tab does. */
async function closeAll(): Promise<Record<string, unknown>> {
  const all = [...connections, ...paused];
  for (const { socket } of all) socket.close(1000);
  sender?.close(1000);
  const deadline = Date.now() + 30_000;
  while (all.some(({ closed }) => !closed) && Date.now() < deadline) await sleep(50);
  return { closed: all.filter(({ closed }) => closed).length, of: all.length };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
