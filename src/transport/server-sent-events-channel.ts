import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { CHANNEL_OPEN } from '../connection/frame-channel.js';
import type { Payload } from '../connection/outgoing-batch.js';
import { ABNORMAL_CLOSURE, CHANNEL_CLOSING, HttpChannel, NORMAL_CLOSURE } from './http-channel.js';
import { WriteDeadline } from './write-deadline.js';

const logger = new Logger('SignalR:Transport');

/**
 * A frame as one Server-Sent Event, as ASP.NET Core's ServerSentEventsMessageFormatter writes it:
 * each line of it a `data:` line (a line's trailing `\r` dropped), then a blank line.
 */
export function serverSentEvent(text: string): string {
  if (!text.includes('\n')) return text.length > 0 ? `data: ${text}\r\n\r\n` : '\r\n';
  let event = '';
  for (const line of text.split('\n')) event += `data: ${line.length > 1 && line.endsWith('\r') ? line.slice(0, -1) : line}\r\n`;
  return `${event}\r\n`;
}

/**
 * A connection's Server-Sent Events stream as a FrameChannel: each frame the connection sends is
 * one event on the open GET, and the client's frames come in POSTs. Text only: the handshake
 * refuses binary protocols before anything binary is sent.
 */
export class ServerSentEventsChannel extends HttpChannel {
  readonly transport = 'ServerSentEvents';
  private readonly deadline: WriteDeadline;

  constructor(
    private readonly stream: ServerResponse,
    connectionId: string,
    sendTimeoutMs: number,
  ) {
    super();
    this.deadline = new WriteDeadline(sendTimeoutMs, () => {
      logger.warn(`Connection ${connectionId} took nothing from its Server-Sent Events stream for ${sendTimeoutMs} ms; closing it.`);
      this.terminate();
    });
    const closed = () => {
      this.deadline.dispose();
      this.ended(this.readyState === CHANNEL_CLOSING ? NORMAL_CLOSURE : ABNORMAL_CLOSURE);
    };
    // The client may have left while its request was being admitted: the connection then ends at once.
    if (stream.destroyed) queueMicrotask(closed);
    else stream.once('close', closed);
    // ASP.NET Core's workaround for browsers that fire EventSource's open only once data came.
    this.write(':\r\n');
  }

  /** What the response and its socket have not handed to the kernel. */
  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  send(data: Payload, _options: { binary: boolean }, written?: (error?: Error) => void): void {
    const text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    this.write(serverSentEvent(text), written);
  }

  /** Ends the stream after what was written; EventSource reports the end as an error, which ends the client's connection. */
  close(): void {
    if (this.readyState !== CHANNEL_OPEN) return;
    this.readyState = CHANNEL_CLOSING;
    this.stream.end();
  }

  terminate(): void {
    this.stream.destroy();
  }

  private write(event: string, written?: (error?: Error) => void): void {
    this.deadline.started();
    this.stream.write(event, (error) => {
      this.deadline.finished();
      written?.(error ?? undefined);
    });
    // A compression middleware (`compression`) holds what is written until told to flush.
    (this.stream as { flush?: () => void }).flush?.();
  }
}
