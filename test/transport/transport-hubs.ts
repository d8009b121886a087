import { Hub } from 'nestjs-signalr';

/** Every transport, with the defaults. */
@Hub('/hubs/echo')
export class EchoHub {
  echo(value: unknown): unknown {
    return value;
  }
}

/** Long polling and WebSockets only, listed out of ASP.NET Core's order, and polls answered empty after 100 ms. */
@Hub('/hubs/polling', { transports: ['LongPolling', 'WebSockets'], longPollingTimeoutMs: 100 })
export class PollingHub extends EchoHub {}

/** Server-Sent Events only. */
@Hub('/hubs/events', { transports: ['ServerSentEvents'] })
export class EventsHub extends EchoHub {}

/** Pings every 50 ms, and a client silent for 200 ms is gone. */
@Hub('/hubs/quiet', { keepAliveIntervalMs: 50, clientTimeoutIntervalMs: 200 })
export class QuietHub extends EchoHub {}
