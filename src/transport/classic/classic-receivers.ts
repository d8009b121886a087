import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { ClassicTransportName } from '../../options/classic-endpoint-options.js';
import { CLASSIC_KEEP_ALIVE } from '../../protocol/classic/classic-messages.js';
import type { HttpReply } from '../http-platform.js';
import { EVENT_STREAM_HEADERS } from '../http-transport.js';

/**
 * The open request (or socket) a classic connection's messages reach its client through. A
 * WebSocket or an event stream carries every persistent response until it ends; a long poll
 * carries one and is done.
 */
export interface ClassicReceiver {
  readonly transport: ClassicTransportName;
  readonly streaming: boolean;
  /** Bytes handed to it and not yet to the kernel. */
  readonly bufferedAmount: number;
  /** Writes one persistent response (JSON). */
  write(response: string): void;
  keepAlive(): void;
  /** The server is done with it: a newer request took its place, or the connection ended. */
  end(): void;
  /** Called once when the client left or it ended. */
  onEnd(listener: () => void): void;
}

export class WebSocketReceiver implements ClassicReceiver {
  readonly transport = 'webSockets';
  readonly streaming = true;

  constructor(private readonly socket: WebSocket) {}

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  write(response: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(response);
  }

  keepAlive(): void {
    this.write(CLASSIC_KEEP_ALIVE);
  }

  end(): void {
    this.socket.close(1000);
  }

  onEnd(listener: () => void): void {
    this.socket.once('close', listener);
  }
}

export class EventStreamReceiver implements ClassicReceiver {
  readonly transport = 'serverSentEvents';
  readonly streaming = true;
  private readonly response: ServerResponse;

  constructor(reply: HttpReply, headers: Record<string, string>) {
    this.response = reply.stream(200, { ...headers, ...EVENT_STREAM_HEADERS });
    // Classic SignalR's first event, which the client ignores: the stream is open.
    this.response.write('data: initialized\n\n');
  }

  get bufferedAmount(): number {
    return this.response.writableLength;
  }

  write(response: string): void {
    if (!this.response.writableEnded) this.response.write(`data: ${response}\n\n`);
  }

  keepAlive(): void {
    this.write(CLASSIC_KEEP_ALIVE);
  }

  end(): void {
    if (!this.response.writableEnded) this.response.end();
  }

  /** Resolves once the stream ended, whoever ended it. */
  ended(): Promise<void> {
    return new Promise((resolve) => this.onEnd(resolve));
  }

  onEnd(listener: () => void): void {
    if (this.response.closed) return listener();
    this.response.once('close', listener);
  }
}

/** A long poll: answered once, with what is there or, after the connection timeout, empty. */
export class PollReceiver implements ClassicReceiver {
  readonly transport = 'longPolling';
  readonly streaming = false;
  private readonly listeners: (() => void)[] = [];
  private done = false;

  constructor(
    private readonly reply: HttpReply,
    private readonly headers: Record<string, string>,
    private readonly wrap: (json: string) => { body: string; contentType: string },
  ) {
    reply.response.once('close', () => this.finish());
  }

  get bufferedAmount(): number {
    return 0;
  }

  write(response: string): void {
    if (this.done) return;
    const { body, contentType } = this.wrap(response);
    this.reply.send(200, { ...this.headers, 'Content-Type': contentType, 'Cache-Control': 'no-cache, no-store', 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' }, body);
    this.finish();
  }

  /** Long polling has no keep-alive: an idle poll is answered at the connection timeout instead. */
  keepAlive(): void {}

  end(): void {
    if (!this.done) this.reply.response.destroy();
    this.finish();
  }

  onEnd(listener: () => void): void {
    if (this.done) return listener();
    this.listeners.push(listener);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    for (const listener of this.listeners.splice(0)) listener();
  }
}
