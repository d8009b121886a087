import type { IHttpConnectionOptions } from '@microsoft/signalr';
import { WebSocket } from 'ws';

/**
 * The WebSocket the official client uses in Node, with a way to stop reading: a paused socket
 * leaves the server's frames in the kernel until its window closes, as a stalled browser tab or a
 * hostile client does.
 */
export class PausableSockets {
  readonly opened: WebSocket[] = [];

  /** Client options that make the client open its sockets through this. */
  options(): IHttpConnectionOptions {
    const opened = this.opened;
    const Socket = class extends WebSocket {
      constructor(url: string, ...rest: ConstructorParameters<typeof WebSocket> extends [unknown, ...infer R] ? R : never) {
        super(url, ...rest);
        opened.push(this);
      }
    };
    // The client reads `WebSocket` at run time; its typings leave it out.
    return { WebSocket: Socket } as IHttpConnectionOptions;
  }

  /** The socket opened last: the client's current one. */
  get current(): WebSocket {
    const socket = this.opened.at(-1);
    if (!socket) throw new Error('No socket was opened');
    return socket;
  }
}
