import type { Payload } from './outgoing-batch.js';

/** The `readyState` values of a channel: ws's, which the other channels report as well. */
export const CHANNEL_OPEN = 1;
export const CHANNEL_CLOSED = 3;

/**
 * The close code of a channel that ended because its client stopped showing up (a long-polling
 * client that sent no poll within the disconnect timeout): from the private-use range, since no
 * WebSocket close code says so, and never sent on a wire.
 */
export const CLIENT_GONE_SILENT = 4000;

/**
 * A client's two-way pipe of frames, whatever carries it. A `ws` WebSocket is one as it is: the
 * shape is ws's, so the WebSocket hot path pays nothing for the seam. Server-Sent Events and long
 * polling present the same shape over their HTTP requests.
 */
export interface FrameChannel {
  readonly readyState: number;
  /** Bytes accepted by the channel and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  send(data: Payload, options: { binary: boolean }, written?: (error?: Error) => void): void;
  pause(): void;
  resume(): void;
  close(code: number): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer) => void): this;
  on(event: 'close', listener: (code: number) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  removeAllListeners(): this;
}
