import { EventEmitter } from 'node:events';
import { Agent, request, type IncomingMessage } from 'node:http';

/** The transports a bench client can fall back to, by the client's names. */
export type HttpTransportName = 'ServerSentEvents' | 'LongPolling';

const RS = '\u001e';
const TIMEOUT_MS = 15_000;

// One socket per open stream or poll and one per send in flight: no pool limit, as a browser has none per connection.
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

/**
 * A SignalR connection over Server-Sent Events or long polling, in the shape of the `ws` socket
 * the load worker drives (`send`, `message`, `close`, `pause`), and sending as the official
 * client does: one POST at a time, carrying everything queued while the previous one was out.
 */
export class HttpTransportSocket extends EventEmitter {
  private queued: string[] = [];
  private posting = false;
  private closed = false;
  private paused = false;
  private stream: IncomingMessage | undefined;
  private pending = '';

  private constructor(
    private readonly port: number,
    private readonly path: string,
    private readonly transport: HttpTransportName,
    private readonly headers: Record<string, string>,
  ) {
    super();
  }

  /** Opens the transport for a negotiated token and completes a JSON handshake. */
  static async open(port: number, hubPath: string, token: string, transport: HttpTransportName, headers: Record<string, string>): Promise<HttpTransportSocket> {
    const socket = new HttpTransportSocket(port, `${hubPath}?id=${encodeURIComponent(token)}`, transport, headers);
    const answered = new Promise<string>((resolve, reject) => {
      socket.once('message', (data: Buffer) => resolve(data.toString('utf8')));
      socket.once('close', () => reject(new Error('closed before answering the handshake')));
    });
    await (transport === 'ServerSentEvents' ? socket.openStream() : socket.firstPoll());
    socket.send(`{"protocol":"json","version":1}${RS}`);
    const answer = await answered;
    if (answer !== `{}${RS}`) throw new Error(`handshake refused: ${answer.replace(RS, '')}`);
    return socket;
  }

  send(frame: string | Uint8Array): void {
    if (this.closed) return;
    this.queued.push(typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8'));
    if (!this.posting) void this.post();
  }

  /** Stops taking what the server sends, as a paused socket does (long polling: no next poll). */
  pause(): void {
    this.paused = true;
    this.stream?.pause();
  }

  resume(): void {
    this.paused = false;
    this.stream?.resume();
    if (this.transport === 'LongPolling') void this.poll();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stream) this.stream.destroy();
    else void this.exchange('DELETE').catch(() => undefined);
    this.emit('close', 1000);
  }

  terminate(): void {
    this.close();
  }

  private async post(): Promise<void> {
    this.posting = true;
    while (this.queued.length > 0 && !this.closed) {
      const body = this.queued.join('');
      this.queued = [];
      const { status } = await this.exchange('POST', body).catch((error: Error) => ({ status: 0, error }));
      if (status !== 200) return this.fail(`a send was answered ${status}`);
    }
    this.posting = false;
  }

  private async firstPoll(): Promise<void> {
    const { status } = await this.exchange('GET');
    if (status !== 200) throw new Error(`the first poll was answered ${status}`);
    void this.poll();
  }

  private async poll(): Promise<void> {
    while (!this.closed && !this.paused) {
      const answer = await this.exchange('GET').catch(() => ({ status: 0, body: '' }));
      if (this.closed) return;
      if (answer.status === 204) return this.fail('the server ended the connection');
      if (answer.status !== 200) return this.fail(`a poll was answered ${answer.status}`);
      if (answer.body !== '') this.emit('message', Buffer.from(answer.body), false);
    }
  }

  private openStream(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: this.path, agent, headers: { ...this.headers, Accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`the event stream was answered ${response.statusCode}`));
        this.stream = response;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => this.events(chunk));
        response.on('close', () => this.fail('the event stream ended'));
        resolve();
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Each complete event's data lines, joined as EventSource joins them, is one message. */
  private events(chunk: string): void {
    this.pending += chunk;
    for (let end = this.pending.indexOf('\r\n\r\n'); end !== -1; end = this.pending.indexOf('\r\n\r\n')) {
      const event = this.pending.slice(0, end);
      this.pending = this.pending.slice(end + 4);
      const data = event.split('\r\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
      if (data !== '') this.emit('message', Buffer.from(data), false);
    }
  }

  private exchange(method: 'GET' | 'POST' | 'DELETE', body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const headers = body === undefined ? this.headers : { ...this.headers, 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': String(Buffer.byteLength(body)) };
      const req = request({ host: '127.0.0.1', port: this.port, path: this.path, method, agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (data: Buffer) => chunks.push(data));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      });
      // A poll waits up to the server's poll timeout; anything else answers at once.
      if (method !== 'GET') req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`${method} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // As a ws socket's: heard by whoever listens (the worker counts it), never thrown at a sender that does not.
    if (this.listenerCount('error') > 0) this.emit('error', new Error(reason));
    this.emit('close', 1006);
  }
}
