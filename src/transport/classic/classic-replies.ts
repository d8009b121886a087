import { replyError } from '../http-replies.js';
import type { HttpReply } from '../http-platform.js';

/** A JSONP callback name: a dotted identifier, never anything a script could be smuggled in. */
const CALLBACK_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/**
 * How JSON answers go out on one request: as JSON, or, when the endpoint allows JSONP and the
 * request asks for it (`callback=`), as a call of the named function.
 */
export class ClassicReplies {
  private readonly callback: string | undefined;

  constructor(
    query: URLSearchParams,
    readonly headers: Record<string, string>,
  ) {
    const callback = query.get('callback');
    this.callback = callback !== null && CALLBACK_NAME.test(callback) ? callback : undefined;
  }

  /** Whether the request asks for JSONP: refused unless the endpoint allows it. */
  static asksForJsonp(query: URLSearchParams): boolean {
    return query.has('callback');
  }

  /** Whether the callback it names can be used. */
  get usableCallback(): boolean {
    return this.callback !== undefined;
  }

  wrap = (json: string): { body: string; contentType: string } =>
    this.callback === undefined
      ? { body: json, contentType: 'application/json; charset=UTF-8' }
      : { body: `${this.callback}(${json});`, contentType: 'application/javascript; charset=UTF-8' };

  json(reply: HttpReply, json: string): void {
    const { body, contentType } = this.wrap(json);
    reply.send(200, {
      ...this.headers,
      'Content-Type': contentType,
      'Cache-Control': 'no-cache, no-store',
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
    }, body);
  }

  /** What `/send` and `/abort` answer: the result travels on the receive channel. */
  empty(reply: HttpReply): void {
    replyError(reply, 200, '', this.headers);
  }

  error(reply: HttpReply, status: number, text: string, headers: Record<string, string> = {}): void {
    replyError(reply, status, text, { ...this.headers, ...headers });
  }
}
