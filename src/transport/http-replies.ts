import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpReply } from './http-platform.js';

// On every answer the package writes: a browser never reads a refusal's text or a token as a script or a page.
const NO_SNIFF = { 'X-Content-Type-Options': 'nosniff' } as const;

export function replyJson(reply: Pick<HttpReply, 'send'>, body: string, headers: Record<string, string> = {}, status = 200): void {
  reply.send(status, {
    ...headers,
    ...NO_SNIFF,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
  }, body);
}

export function replyError(reply: Pick<HttpReply, 'send'>, status: number, text: string, headers: Record<string, string> = {}): void {
  reply.send(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
    ...NO_SNIFF,
  }, text);
}

/** An answer whose status says it all, as ASP.NET Core's transports answer: `text/plain`, empty. */
export function replyEmpty(reply: Pick<HttpReply, 'send'>, status: number, headers: Record<string, string> = {}): void {
  replyError(reply, status, '', headers);
}

/** An answer without a body: an allowed CORS preflight. */
export function replyNoContent(reply: HttpReply, headers: Record<string, string>): void {
  reply.send(204, { ...headers, ...NO_SNIFF });
}

/**
 * A script (or its typings) made for one user: never cached, and, if a browser opens it as a
 * page, nothing in it runs. Node writes no body in answer to HEAD.
 */
export function replyScript(reply: HttpReply, body: string, contentType: string, headers: Record<string, string>): void {
  reply.send(200, {
    ...headers,
    ...NO_SNIFF,
    'Content-Security-Policy': "default-src 'none'",
    'Content-Type': contentType,
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
  }, body);
}

/** Refuses a WebSocket upgrade with a plain HTTP answer before any WebSocket exists. */
export function refuseUpgrade(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(text);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n${extra}` +
      `Content-Length: ${body.length}\r\n\r\n${text}`,
  );
}
