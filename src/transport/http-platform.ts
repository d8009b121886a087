import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { placeBeforeCatchAlls, type RouterLayer } from './express-route-order.js';

/**
 * An answer written through the platform's own response, so that the headers its middleware,
 * plugins and guards set before (CORS, security headers, rate-limit counts) go out with it.
 */
export interface HttpReply {
  send(status: number, headers: Record<string, string | number>, body?: string | Buffer): void;
  /** Starts an answer whose body is written as it comes (Server-Sent Events), with those headers too. */
  stream(status: number, headers: Record<string, string | number>): ServerResponse;
  readonly sent: boolean;
  /** Node's response underneath: when its client left, and what it has not yet written. */
  readonly response: ServerResponse;
}

/** What a route handler of the platform receives, as Nest's guards see it: request, response (, next). */
export type PlatformArgs = readonly unknown[];

/** Takes a request of a hub's path; undefined leaves it to the application's routes and its 404. */
export type HubRequestTaker = (args: PlatformArgs) => Promise<void> | undefined;

/** How hub requests join one HTTP platform's pipeline, and how they are read and answered there. */
export interface HttpPlatform {
  /**
   * Sees, after the application's middleware, every request no route of the application
   * answers, and those a route with a parameter or a wildcard on a hub's path would take (a
   * catch-all, an SPA fallback): ASP.NET Core ranks such routes below the hub's literal paths.
   * `hubPaths` are the paths the hubs answer on.
   */
  mount(take: HubRequestTaker, hubPaths: readonly string[]): void;
  request(args: PlatformArgs): IncomingMessage;
  reply(args: PlatformArgs): HttpReply;
}

interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  /** Fastify routes before any hook: a request no route matched is on its way to the not-found handler. */
  readonly is404: boolean;
  /** The route that matched: its `url` is the pattern it was declared with. */
  readonly routeOptions?: { readonly url?: string };
}

interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string | number>): FastifyReplyLike;
  getHeaders(): Record<string, string | number | string[] | undefined>;
  send(body?: string | Buffer): FastifyReplyLike;
  hijack(): FastifyReplyLike;
}

interface FastifyLike {
  addHook(name: 'preParsing', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown) => Promise<unknown>): unknown;
}

interface ExpressLike {
  readonly router?: { readonly stack?: RouterLayer[] };
}

export function httpPlatformOf(httpAdapter: AbstractHttpAdapter): HttpPlatform {
  return httpAdapter.getType() === 'fastify' ? fastifyPlatform(httpAdapter.getInstance<FastifyLike>()) : connectPlatform(httpAdapter);
}

/**
 * Express, and any platform whose middleware receives Node's request and response: a
 * middleware added after the application's routes, and moved before those of them that would
 * take a hub's request.
 */
function connectPlatform(httpAdapter: AbstractHttpAdapter): HttpPlatform {
  return {
    mount(take, hubPaths) {
      httpAdapter.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
        if (!take([request, response, next])) next();
      });
      const stack = httpAdapter.getInstance<ExpressLike>().router?.stack;
      if (Array.isArray(stack)) placeBeforeCatchAlls(stack, hubPaths);
    },
    request: (args) => args[0] as IncomingMessage,
    reply: (args) => replyOn(args[1] as ServerResponse),
  };
}

/** Answers through Node's response itself, keeping the headers middleware set on it. */
export function replyOn(response: ServerResponse): HttpReply {
  return {
    send(status, headers, body) {
      response.writeHead(status, headers).end(body);
    },
    stream(status, headers) {
      return response.writeHead(status, headers);
    },
    get sent() {
      return response.headersSent;
    },
    response,
  };
}

/**
 * Fastify routes a request before its hooks run, so every request reaches its hooks, matched or
 * not. Hub requests are taken in `preParsing`: after the application's `onRequest` hooks (its
 * middleware, CORS), before Fastify reads a body, which the hub reads itself under its own limit
 * whatever its content type. Answers go through the reply, where Fastify keeps the headers of its hooks.
 */
function fastifyPlatform(fastify: FastifyLike): HttpPlatform {
  return {
    mount(take) {
      fastify.addHook('preParsing', async (request, reply, payload) => {
        const taken = request.is404 || isCatchAll(request.routeOptions?.url) ? take([request, reply]) : undefined;
        if (!taken) return payload;
        await taken;
        return reply;
      });
    },
    request: (args) => (args[0] as FastifyRequestLike).raw,
    reply(args) {
      const reply = args[1] as FastifyReplyLike;
      return {
        send(status, headers, body) {
          reply.code(status).headers(headers).send(body);
        },
        stream(status, headers) {
          // Written to Node's response directly from here on, with what Fastify's hooks set on the reply.
          const kept = Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, value]) => value !== undefined));
          reply.hijack();
          return reply.raw.writeHead(status, { ...kept, ...headers } as Record<string, string | number | string[]>);
        },
        get sent() {
          return reply.raw.headersSent;
        },
        response: reply.raw,
      };
    },
  };
}

/** A route pattern with a parameter or a wildcard: ranked below a hub's literal path. */
function isCatchAll(pattern: string | undefined): boolean {
  return pattern !== undefined && /[*:]/.test(pattern);
}
