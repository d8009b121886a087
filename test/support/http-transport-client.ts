import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { negotiate, RS } from './raw-client.js';

/** One answer of the server, whole. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

const JSON_HANDSHAKE = `{"protocol":"json","version":1}${RS}`;

async function answerOf(response: Response): Promise<HttpAnswer> {
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/**
 * A hand-driven long-polling client of one connection, for what the official client never does
 * (two polls at once, a poll with another user's token) and for the exact answers on the wire.
 */
export class RawPollingClient {
  constructor(
    readonly hubUrl: string,
    readonly token: string,
    readonly headers: Record<string, string> = {},
    /** The public id negotiate gave with the token, when this client negotiated. */
    readonly connectionId?: string,
  ) {}

  /** Negotiates with `headers`, which every later request carries too. */
  static async negotiated(hubUrl: string, headers: Record<string, string> = {}): Promise<RawPollingClient> {
    const { connectionToken, connectionId } = await negotiate(hubUrl, { headers });
    return new RawPollingClient(hubUrl, connectionToken, headers, connectionId);
  }

  get url(): string {
    return `${this.hubUrl}?id=${encodeURIComponent(this.token)}`;
  }

  poll(init: RequestInit = {}): Promise<HttpAnswer> {
    return fetch(this.url, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string>) } }).then(answerOf);
  }

  send(body: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return fetch(this.url, { method: 'POST', body, headers: { ...this.headers, ...headers } }).then(answerOf);
  }

  remove(headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return fetch(this.url, { method: 'DELETE', headers: { ...this.headers, ...headers } }).then(answerOf);
  }

  /** The first poll, the JSON handshake and the poll that brings its answer. */
  async connect(): Promise<void> {
    const first = await this.poll();
    if (first.status !== 200) throw new Error(`the first poll was answered ${first.status}`);
    await this.send(JSON_HANDSHAKE);
    const answer = await this.poll();
    if (answer.body !== `{}${RS}`) throw new Error(`the handshake was answered ${answer.status} ${answer.body}`);
  }

  /** Invokes `target` with `args` as invocation `id`, and polls until its completion comes; gives the messages polled. */
  async invoke(id: string, target: string, ...args: unknown[]): Promise<Record<string, unknown>[]> {
    await this.send(`${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}${RS}`);
    const messages: Record<string, unknown>[] = [];
    while (!messages.some((message) => message.type === 3 && message.invocationId === id)) {
      const answer = await this.poll();
      if (answer.status !== 200) throw new Error(`a poll was answered ${answer.status}`);
      messages.push(...parseMessages(answer.body));
    }
    return messages;
  }
}

/** JSON hub messages as a poll's body or an event's data carries them. */
export function parseMessages(text: string): Record<string, unknown>[] {
  return text
    .split(RS)
    .filter(Boolean)
    .map((message) => JSON.parse(message) as Record<string, unknown>);
}

/** An event stream as the server writes it: every byte, and the data of each event as EventSource reads it. */
export class RawEventStream {
  text = '';
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly response: IncomingMessage,
    private readonly request: ReturnType<typeof httpRequest>,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.text += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => response.on('close', () => resolve()));
    void this.closed.then(() => this.waiters.splice(0).forEach((wake) => wake()));
  }

  /** Opens the stream of `url` (with `Accept: text/event-stream`) and resolves once its answer's head came. */
  static open(url: string, headers: Record<string, string> = {}): Promise<RawEventStream> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(url, { headers: { Accept: 'text/event-stream', ...headers } });
      request.on('response', (response) => resolve(new RawEventStream(response, request)));
      request.on('error', reject);
      request.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.response.headers;
  }

  /** The data of each complete event so far, lines joined with `\n` as EventSource joins them. */
  events(): string[] {
    return this.text
      .split('\r\n\r\n')
      .slice(0, -1)
      .map((event) =>
        event
          .split('\r\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice('data: '.length))
          .join('\n'),
      )
      .filter((data) => data !== '');
  }

  async until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.response.closed) throw new Error(`the stream ended first: ${JSON.stringify(this.text)}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out; the stream so far: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.request.destroy();
  }
}

/**
 * A connection over Server-Sent Events or long polling, driven by hand as the official client
 * drives it (an open event stream, or a poll always open), with the requests it makes in reach:
 * for presenting its token with someone else's credential, or from another origin.
 */
export class RawFallbackConnection {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  private stopped = false;
  private polling: Promise<void> | undefined;

  private constructor(
    readonly requests: RawPollingClient,
    private readonly stream: RawEventStream | undefined,
  ) {
    if (stream) {
      let seen = 0;
      stream.response.on('data', () => {
        const events = stream.events();
        for (const data of events.slice(seen)) this.received(data);
        seen = events.length;
      });
    }
  }

  /** Negotiates, opens the transport and completes a JSON handshake, every request with `headers`. */
  static async open(hubUrl: string, transport: 'ServerSentEvents' | 'LongPolling', headers: Record<string, string> = {}): Promise<RawFallbackConnection> {
    const requests = await RawPollingClient.negotiated(hubUrl, headers);
    let connection: RawFallbackConnection;
    if (transport === 'ServerSentEvents') {
      const stream = await RawEventStream.open(requests.url, headers);
      if (stream.status !== 200) throw new Error(`the event stream was answered ${stream.status}`);
      connection = new RawFallbackConnection(requests, stream);
    } else {
      const first = await requests.poll();
      if (first.status !== 200) throw new Error(`the first poll was answered ${first.status}`);
      connection = new RawFallbackConnection(requests, undefined);
      connection.polling = connection.pollUntilStopped();
    }
    await requests.send(JSON_HANDSHAKE);
    await connection.until(() => connection.messages.length > 0);
    return connection;
  }

  /** Sends an invocation and resolves with its completion. */
  async invoke(id: string, target: string, ...args: unknown[]): Promise<Record<string, unknown>> {
    const sent = await this.requests.send(`${JSON.stringify({ type: 1, invocationId: id, target, arguments: args })}${RS}`);
    if (sent.status !== 200) throw new Error(`the invocation was answered ${sent.status}`);
    const completion = () => this.messages.find((message) => message.type === 3 && message.invocationId === id);
    await this.until(() => completion() !== undefined);
    return completion()!;
  }

  async until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out; received ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ends it as the official client does: its event stream closed, or its polls stopped and a DELETE sent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.stream) return this.stream.close();
    await this.requests.remove();
    await this.polling;
  }

  private received(text: string): void {
    this.messages.push(...parseMessages(text));
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async pollUntilStopped(): Promise<void> {
    while (!this.stopped) {
      const answer = await this.requests.poll();
      if (answer.status !== 200) return;
      this.received(answer.body);
    }
  }
}
