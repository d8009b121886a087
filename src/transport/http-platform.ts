import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An answer written through the platform's own response, so that the headers its middleware,
 * plugins and guards set before (CORS, security headers, rate-limit counts) go out with it.
 */
export interface HttpReply {
  send(status: number, headers: Record<string, string | number>, body?: string): void;
  readonly sent: boolean;
}

/** What a route handler of the platform receives, as Nest's guards see it: request, response (, next). */
export type PlatformArgs = readonly unknown[];

/** Takes a request of a hub's path that no route of the application answered; undefined leaves it to the 404. */
export type HubRequestTaker = (args: PlatformArgs) => Promise<void> | undefined;

/** How hub requests join one HTTP platform's pipeline, and how they are read and answered there. */
export interface HttpPlatform {
  /** Sees every request no route of the application answered, after the application's middleware. */
  mount(take: HubRequestTaker): void;
  request(args: PlatformArgs): IncomingMessage;
  reply(args: PlatformArgs): HttpReply;
}

interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  /** Fastify routes before any hook: a request no route matched is on its way to the not-found handler. */
  readonly is404: boolean;
}

interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string | number>): FastifyReplyLike;
  send(body?: string): FastifyReplyLike;
}

interface FastifyLike {
  addHook(name: 'preHandler', hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

export function httpPlatformOf(httpAdapter: AbstractHttpAdapter): HttpPlatform {
  return httpAdapter.getType() === 'fastify' ? fastifyPlatform(httpAdapter.getInstance<FastifyLike>()) : connectPlatform(httpAdapter);
}

/**
 * Express, and any platform whose middleware receives Node's request and response: a
 * middleware added after the application's routes and before the not-found handler.
 */
function connectPlatform(httpAdapter: AbstractHttpAdapter): HttpPlatform {
  return {
    mount(take) {
      httpAdapter.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
        if (!take([request, response, next])) next();
      });
    },
    request: (args) => args[0] as IncomingMessage,
    reply(args) {
      const response = args[1] as ServerResponse;
      return {
        send(status, headers, body) {
          response.writeHead(status, headers).end(body);
        },
        get sent() {
          return response.headersSent;
        },
      };
    },
  };
}

/**
 * Fastify routes a request before its hooks run, so a request no route matched reaches the
 * not-found handler through the hooks; the last hook before it, after the application's own,
 * takes the hub's. Answers go through the reply, where Fastify keeps the headers of its hooks.
 */
function fastifyPlatform(fastify: FastifyLike): HttpPlatform {
  return {
    mount(take) {
      fastify.addHook('preHandler', async (request, reply) => {
        const taken = request.is404 ? take([request, reply]) : undefined;
        if (!taken) return undefined;
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
        get sent() {
          return reply.raw.headersSent;
        },
      };
    },
  };
}
