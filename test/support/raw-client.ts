import { createConnection } from 'node:net';
import { WebSocket } from 'ws';

export const RS = '\u001e';

/** A hand-driven client, for what the official one never sends. */
export class RawHubSocket {
  readonly frames: string[] = [];
  /** The same frames as received, with their WebSocket frame type. */
  readonly rawFrames: { data: Buffer; binary: boolean }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, binary: boolean) => {
      this.rawFrames.push({ data, binary });
      this.frames.push(data.toString('utf8'));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Negotiates (unless `token` is given) and opens the WebSocket without a handshake. */
  static async open(hubUrl: string, token?: string, headers: Record<string, string> = {}): Promise<RawHubSocket> {
    const connectionToken = token ?? (await negotiate(hubUrl, { headers })).connectionToken;
    return RawHubSocket.openUrl(`${hubUrl}?id=${encodeURIComponent(connectionToken)}`, headers);
  }

  /** Opens the WebSocket of a complete hub URL, query included, without a handshake. */
  static async openUrl(url: string, headers: Record<string, string> = {}): Promise<RawHubSocket> {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    // Listening starts in 'open' itself: a frame in the same read as the upgrade answer (a
    // stateful reconnect's replay) is delivered before an awaiting caller could attach a listener.
    return new Promise<RawHubSocket>((resolve, reject) => {
      socket.once('open', () => resolve(new RawHubSocket(socket)));
      socket.once('error', reject);
    });
  }

  /** Opens (as `open` does) and completes a JSON handshake. */
  static async connected(hubUrl: string, token?: string, headers: Record<string, string> = {}): Promise<RawHubSocket> {
    const raw = await RawHubSocket.open(hubUrl, token, headers);
    raw.send(`{"protocol":"json","version":1}${RS}`);
    await raw.nextFrame();
    return raw;
  }

  send(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Messages received so far, parsed, in order. */
  messages(): Record<string, unknown>[] {
    return this.frames.flatMap((frame) => frame.split(RS).filter(Boolean)).map((text) => JSON.parse(text));
  }

  async nextFrame(timeoutMs = 5000): Promise<string> {
    const seen = this.frames.length;
    await this.until(() => this.frames.length > seen, timeoutMs);
    return this.frames[seen];
  }

  async until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('Timed out waiting for the server');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export async function negotiate(hubUrl: string, init: RequestInit = {}): Promise<{ connectionId: string; connectionToken: string }> {
  const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1`, { method: 'POST', ...init });
  if (!response.ok) throw new Error(`negotiate answered ${response.status}`);
  return (await response.json()) as { connectionId: string; connectionToken: string };
}

/** Attempts an upgrade and reports the HTTP status of a refusal (or 101). */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { status, body } = await upgradeResponse(url, headers);
  return { status, body };
}

/** Attempts an upgrade and reports the whole HTTP answer of a refusal (or 101, closed at once). */
export function upgradeResponse(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    socket.on('open', () => {
      socket.close();
      resolve({ status: 101, body: '', headers: {} });
    });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    socket.on('error', (error) => reject(error));
  });
}

/**
 * One HTTP/1.1 request written byte for byte on a socket, for what no client library sends: a
 * forged, missing or doubled Host. `headers` are written as given, in order (no Host is added,
 * and `Connection: close` unless they say otherwise); a 101 answer is read up to its headers,
 * any other to the end.
 */
export function rawHttp(
  baseUrl: string,
  method: string,
  path: string,
  headers: readonly (readonly [string, string])[],
): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  const connection = headers.some(([name]) => name.toLowerCase() === 'connection') ? [] : ['Connection: close'];
  const lines = [`${method} ${path} HTTP/1.1`, ...headers.map(([name, value]) => `${name}: ${value}`), ...connection];
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    let received = '';
    const settle = () => {
      const end = received.indexOf('\r\n\r\n');
      const head = end === -1 ? received : received.slice(0, end);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: end === -1 ? '' : received.slice(end + 4) });
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 101') && received.includes('\r\n\r\n')) {
        socket.destroy();
        settle();
      }
    });
    socket.on('end', settle);
    socket.on('error', reject);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** The headers of a WebSocket upgrade, without Host. */
export const UPGRADE_HEADERS: readonly (readonly [string, string])[] = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'websocket'],
  ['Sec-WebSocket-Version', '13'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
];
