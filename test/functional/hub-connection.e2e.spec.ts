import {
  AbortError,
  DefaultHttpClient,
  HttpClient,
  HttpTransportType,
  HubConnectionBuilder,
  JsonHubProtocol,
  LogLevel,
  NullLogger,
  type HttpRequest,
  type HttpResponse,
  VERSION,
  type HubConnection,
  type IHttpConnectionOptions,
  type IStreamResult,
} from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { Subject } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nextCall, WIRE_PROTOCOLS, type WireProtocol } from '../support/client.js';
import type { RunningHubApp } from '../support/hub-app.js';
import { trustAnyCertificate } from '../support/tls.js';
import { startFunctionalServer } from './functional-app.js';

// The official client's own functional tests (dotnet/aspnetcore, src/SignalR/clients/ts/
// FunctionalTests/ts/HubConnectionTests.ts), against the Nest port of their server: same tests,
// same names, same expectations, in this project's style. Run on Node, where theirs use one HTTP
// client (fetch): DefaultHttpClient picks it. Server-Sent Events run here too: in Node the client
// takes its EventSource from the `eventsource` package it depends on (theirs skip the SSE
// negotiation test where no global EventSource exists).

/** Every transport the server offers; each suite below runs once per entry. */
const TRANSPORTS: readonly HttpTransportType[] = [HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling];
const SCHEMES = ['http', 'https'] as const;

const MESSAGE = '你好，世界！';
const SKIPPING_NEGOTIATION: IHttpConnectionOptions = { skipNegotiation: true };

/** Server-Sent Events carry text only, so MessagePack never runs over them. */
function transportsAndProtocols(): Array<[WireProtocol, string, HttpTransportType]> {
  return TRANSPORTS.flatMap((transport) =>
    WIRE_PROTOCOLS.filter((protocol) => transport !== HttpTransportType.ServerSentEvents || protocol === 'json').map(
      (protocol): [WireProtocol, string, HttpTransportType] => [protocol, HttpTransportType[transport], transport],
    ),
  );
}

function closeOf(connection: HubConnection): Promise<Error | undefined> {
  return new Promise((resolve) => connection.onclose(resolve));
}

function itemsOf<T>(stream: IStreamResult<T>): Promise<T[]> {
  const items: T[] = [];
  return new Promise((resolve, reject) =>
    stream.subscribe({ next: (item) => items.push(item), complete: () => resolve(items), error: reject }),
  );
}

interface ConnectionSetup {
  readonly url?: string;
  readonly options?: IHttpConnectionOptions;
  readonly protocol?: WireProtocol;
  readonly automaticReconnect?: boolean;
}

/** Starts, gets MESSAGE echoed, stops, and the close carries no error. */
async function echoesAndClosesCleanly(connection: HubConnection): Promise<void> {
  const closed = closeOf(connection);
  await connection.start();
  expect(await connection.invoke('Echo', MESSAGE)).toBe(MESSAGE);
  await connection.stop();
  expect(await closed).toBeUndefined();
}

/** What the client puts in User-Agent on Node: `Microsoft SignalR/<major.minor> (<version>; <OS>; NodeJS; <Node's version>)`. */
function nodeClientUserAgent(): string {
  const os = { linux: 'Linux', darwin: 'macOS', win32: 'Windows NT' }[process.platform as string] ?? process.platform;
  return `Microsoft SignalR/${VERSION.split('.').slice(0, 2).join('.')} (${VERSION}; ${os}; NodeJS; ${process.versions.node})`;
}

/** Their way of making the client believe the server went silent, to start a reconnect. */
function induceReconnect(connection: HubConnection): void {
  (connection as unknown as { serverTimeout(): void }).serverTimeout();
}

/**
 * Listens (before the start, as theirs) for one automatic reconnect; the function it gives
 * induces that reconnect and resolves with the id the client reconnected with.
 */
function reconnectionOf(connection: HubConnection): () => Promise<string | undefined> {
  const reconnecting = new Promise<void>((resolve) => connection.onreconnecting(() => resolve()));
  const reconnected = new Promise<string | undefined>((resolve) => connection.onreconnected(resolve));
  return async () => {
    induceReconnect(connection);
    await reconnecting;
    return reconnected;
  };
}

describe.each(SCHEMES)('hubConnection over %s', (scheme) => {
  let server: RunningHubApp;
  let testHubUrl: string;
  const httpClient = new DefaultHttpClient(NullLogger.instance);
  const built: HubConnection[] = [];

  beforeAll(async () => {
    if (scheme === 'https') trustAnyCertificate();
    server = await startFunctionalServer(scheme);
    testHubUrl = `${server.baseUrl}/testhub`;
  });

  afterEach(async () => {
    await Promise.all(built.splice(0).map((connection) => connection.stop()));
  });

  afterAll(() => server.close());

  /** Their getConnectionBuilder(...).build(): an unstarted connection, stopped after the test. */
  function build(transport: HttpTransportType | undefined, setup: ConnectionSetup = {}): HubConnection {
    const { url = testHubUrl, options = {}, protocol = 'json', automaticReconnect = false } = setup;
    const builder = new HubConnectionBuilder()
      .configureLogging(LogLevel.None)
      .withUrl(url, { httpClient, ...options, ...(transport === undefined ? {} : { transport }) })
      .withHubProtocol(protocol === 'json' ? new JsonHubProtocol() : new MessagePackHubProtocol());
    const connection = (automaticReconnect ? builder.withAutomaticReconnect() : builder).build();
    built.push(connection);
    return connection;
  }

  /** Asks their server to ask this client for a result; gives what the server got. */
  const clientResult = async (connection: HubConnection) =>
    (await httpClient.get(`${server.baseUrl}/clientresult/${connection.connectionId}`)).content;
  const authorizedHubUrl = () => `${server.baseUrl}/authorizedhub`;
  /** Their TESTHUB_REDIRECT_ENDPOINT_URL, reconnecting automatically: negotiate answers with the test hub's URL. */
  const redirectedConnection = () =>
    build(undefined, { url: `${server.baseUrl}/redirect?numRedirects=0&baseUrl=${server.baseUrl}`, automaticReconnect: true });
  const jwtToken = async () => (await httpClient.get(`${server.baseUrl}/generateJwtToken`)).content as string;

  describe.each(transportsAndProtocols())('using %s over %s transport', (protocol, _transportName, transport) => {
    const connect = () => build(transport, { protocol });

    it('can invoke server method and receive result', async () => {
      await echoesAndClosesCleanly(connect());
    });

    it('can invoke server method non-blocking and not receive result', async () => {
      const connection = connect();
      const closed = closeOf(connection);
      await connection.start();
      await connection.send('Echo', MESSAGE);
      await connection.stop();
      expect(await closed).toBeUndefined();
    });

    it('can invoke server method structural object and receive structural result', async () => {
      const connection = connect();
      const closed = closeOf(connection);
      const received = nextCall(connection, 'CustomObject');
      await connection.start();
      await connection.send('SendCustomObject', { Name: 'test', Value: 42 });
      expect(await received).toEqual([{ Name: 'test', Value: 42 }]);
      await connection.stop();
      expect(await closed).toBeUndefined();
    });

    it('can stream server method and receive result', async () => {
      const connection = connect();
      await connection.start();
      expect(await itemsOf(connection.stream<string>('Stream'))).toEqual(['a', 'b', 'c']);
    });

    it('can stream server method and cancel stream', async () => {
      const connection = connect();
      const closed = closeOf(connection);
      const canceled = nextCall(connection, 'StreamCanceled');
      await connection.start();
      const failures: unknown[] = [];
      const subscription = connection.stream<string>('InfiniteStream').subscribe({
        next: () => undefined,
        complete: () => undefined,
        error: (error) => failures.push(error),
      });
      // At once: the cancellation follows the invocation in the same turn of the server.
      subscription.dispose();
      await canceled;
      await connection.stop();
      expect(await closed).toBeUndefined();
      expect(failures).toEqual([]);
    });

    it('rethrows an exception from the server when invoking', async () => {
      const connection = connect();
      await connection.start();
      await expect(connection.invoke('ThrowException', 'An error occurred.')).rejects.toMatchObject({
        message: "An unexpected error occurred invoking 'ThrowException' on the server. InvalidOperationException: An error occurred.",
      });
    });

    it('throws an exception when invoking streaming method with invoke', async () => {
      const connection = connect();
      await connection.start();
      await expect(connection.invoke('EmptyStream')).rejects.toMatchObject({
        message: "The client attempted to invoke the streaming 'EmptyStream' method with a non-streaming invocation.",
      });
    });

    it('throws an exception when receiving a streaming result for method called with invoke', async () => {
      const connection = connect();
      await connection.start();
      await expect(connection.invoke('Stream')).rejects.toMatchObject({
        message: "The client attempted to invoke the streaming 'Stream' method with a non-streaming invocation.",
      });
    });

    it('rethrows an exception from the server when streaming', async () => {
      const connection = connect();
      await connection.start();
      await expect(itemsOf(connection.stream('StreamThrowException', 'An error occurred.'))).rejects.toMatchObject({
        message: "An unexpected error occurred invoking 'StreamThrowException' on the server. InvalidOperationException: An error occurred.",
      });
    });

    it('throws an exception when invoking hub method with stream', async () => {
      const connection = connect();
      await connection.start();
      await expect(itemsOf(connection.stream('Echo', '42'))).rejects.toMatchObject({
        message: "The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.",
      });
    });

    it('can receive server calls', async () => {
      const connection = connect();
      // Client handler names are case-insensitive.
      const received = nextCall(connection, 'meSsage');
      await connection.start();
      await connection.invoke('InvokeWithString', '你好 SignalR！');
      expect(await received).toEqual(['你好 SignalR！']);
    });

    it('can receive server calls without rebinding handler when restarted', async () => {
      const connection = connect();
      const received: unknown[] = [];
      connection.on('messAge', (message: unknown) => received.push(message));
      const closeErrors: Array<Error | undefined> = [];
      connection.onclose((error) => closeErrors.push(error));
      for (let run = 0; run < 2; run++) {
        await connection.start();
        await connection.invoke('InvokeWithString', '你好 SignalR！');
        await connection.stop();
      }
      expect(received).toEqual(['你好 SignalR！', '你好 SignalR！']);
      expect(closeErrors).toEqual([undefined, undefined]);
    });

    it('can handle different types', async () => {
      const connection = connect();
      const complexObject = {
        ByteArray: protocol === 'json' ? 'aGVsbG8=' : new Uint8Array([0x68, 0x65, 0x6c, 0x6c, 0x6f]),
        DateTime: protocol === 'json' ? '2002-04-01T10:20:15Z' : new Date(Date.UTC(2002, 3, 1, 10, 20, 15)),
        Guid: '00010203-0405-0607-0706-050403020100',
        IntArray: [0x01, 0x02, 0x03, 0xff],
        String: 'Hello, World!',
      };
      await connection.start();
      expect(await connection.invoke('EchoComplexObject', complexObject)).toEqual(complexObject);
    });

    it('can receive different types', async () => {
      const connection = connect();
      await connection.start();
      expect(await connection.invoke('SendComplexObject')).toEqual({
        ByteArray: protocol === 'json' ? 'AQID' : new Uint8Array([0x1, 0x2, 0x3]),
        DateTime: protocol === 'json' ? '2000-01-01T00:00:00Z' : new Date(Date.UTC(2000, 0, 1)),
        Guid: '00010203-0405-0607-0706-050403020100',
        IntArray: [0x01, 0x02, 0x03],
        String: 'hello world',
      });
    });

    it('can be restarted', async () => {
      const connection = connect();
      const closeErrors: Array<Error | undefined> = [];
      connection.onclose((error) => closeErrors.push(error));
      for (let run = 0; run < 2; run++) {
        await connection.start();
        expect(await connection.invoke('Echo', MESSAGE)).toBe(MESSAGE);
        await connection.stop();
      }
      expect(closeErrors).toEqual([undefined, undefined]);
    });

    /** Streams "Hello ", "world" and "!" to StreamingConcat, ends the stream with `end`, and gives the result. */
    async function concatenated(end: (subject: Subject<string>) => void): Promise<string> {
      const connection = connect();
      await connection.start();
      const subject = new Subject<string>();
      const result = connection.invoke<string>('StreamingConcat', subject.asObservable());
      for (const item of ['Hello ', 'world', '!']) subject.next(item);
      end(subject);
      return result;
    }

    it('can stream from client to server with rxjs', async () => {
      expect(await concatenated((subject) => subject.complete())).toBe('Hello world!');
    });

    it('can stream from client to server and close with error with rxjs', async () => {
      await expect(concatenated((subject) => subject.error(new Error('Something bad')))).rejects.toMatchObject({
        message: "An unexpected error occurred invoking 'StreamingConcat' on the server. HubException: Something bad",
      });
    });

    it('can return result to server', async () => {
      const connection = connect();
      connection.on('Result', () => 10);
      await connection.start();
      expect(await clientResult(connection)).toBe('10');
    });

    it('can throw result to server', async () => {
      const connection = connect();
      connection.on('Result', () => {
        throw new Error('from callback');
      });
      await connection.start();
      expect(await clientResult(connection)).toBe('Error: from callback');
    });

    it('returns result error to server when no result given', async () => {
      const connection = connect();
      await connection.start();
      expect(await clientResult(connection)).toBe("Client didn't provide a result.");
    });
  });

  describe.each(TRANSPORTS.map((transport) => [HttpTransportType[transport], transport] as const))(
    'over %s transport',
    (_transportName, transport) => {
      it('can connect to hub with authorization', async () => {
        const token = await jwtToken();
        const connection = build(transport, { url: authorizedHubUrl(), options: { accessTokenFactory: () => token } });
        await echoesAndClosesCleanly(connection);
      });

      it('can connect to hub with authorization using async token factory', async () => {
        const connection = build(transport, { url: authorizedHubUrl(), options: { accessTokenFactory: jwtToken } });
        await echoesAndClosesCleanly(connection);
      });

      it('can get error from unauthorized hub connection', async () => {
        const connection = build(transport, { url: authorizedHubUrl() });
        await expect(connection.start()).rejects.toMatchObject({
          message: "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'",
        });
      });

      // Long polling gets no pings while a poll is open, so the client does not time it out: the
      // test exists for the other transports only, as upstream.
      if (transport !== HttpTransportType.LongPolling) it('terminates if no messages received within timeout interval', async () => {
        const connection = build(transport);
        const closed = closeOf(connection);
        await connection.start();
        // Set once started, so that a slow handshake does not trip it.
        connection.serverTimeoutInMilliseconds = 1;
        // An invocation with a response restarts the timer with the new value.
        await connection.invoke('Echo', '');
        expect(await closed).toEqual(new Error('Server timeout elapsed without receiving a message from the server.'));
      });

      it('can reconnect', async () => {
        const connection = build(transport, { automaticReconnect: true });
        const reconnect = reconnectionOf(connection);
        await connection.start();
        const initialConnectionId = connection.connectionId;
        expect(await reconnect()).not.toBe(initialConnectionId);
        expect(await connection.invoke('Echo', 'test')).toBe('test');
      });

      it('preserves cookies between requests', async () => {
        const connection = build(transport);
        await connection.start();
        expect(await connection.invoke('GetCookie', 'testCookie')).toBe('testValue');
        expect(await connection.invoke('GetCookie', 'testCookie2')).toBe('testValue2');
      });

      it('expired cookies are not preserved', async () => {
        const connection = build(transport);
        await connection.start();
        expect(await connection.invoke('GetCookie', 'expiredCookie')).toBeNull();
      });

      // On Node the client names itself in User-Agent on every transport (browsers keep theirs).
      it('sets the user agent header', async () => {
        const connection = build(transport);
        await connection.start();
        expect(await connection.invoke('GetHeader', 'User-Agent')).toBe(nodeClientUserAgent());
      });

      it('overwrites library headers with user headers', async () => {
        const headers = { 'User-Agent': 'Custom Agent', 'X-HEADER': 'VALUE' };
        const connection = build(transport, { options: { headers } });
        await connection.start();
        expect(await connection.invoke('GetHeader', 'User-Agent')).toBe('Custom Agent');
        expect(await connection.invoke('GetHeader', 'X-HEADER')).toBe('VALUE');
      });

      it('can change url in reconnecting state', async () => {
        // Never contacted: the connection stops before its first reconnect attempt.
        const otherUrl = 'http://127.0.0.1:9/elsewhere';
        const connection = build(transport, { automaticReconnect: true });
        const reconnecting = new Promise<void>((resolve) =>
          connection.onreconnecting(() => {
            connection.baseUrl = otherUrl;
            resolve();
          }),
        );
        await connection.start();
        induceReconnect(connection);
        await reconnecting;
        expect(connection.baseUrl).toBe(otherUrl);
        await connection.stop();
      });
    },
  );

  it('can reconnect after negotiate redirect', async () => {
    const connection = redirectedConnection();
    const reconnect = reconnectionOf(connection);
    await connection.start();
    const redirectsBefore = await connection.invoke<number>('GetNumRedirects');
    const initialConnectionId = connection.connectionId;

    const newConnectionId = await reconnect();
    expect(newConnectionId).not.toBe(initialConnectionId);
    expect(await connection.invoke('GetCallerConnectionId')).toBe(newConnectionId);
    expect(await connection.invoke<number>('GetNumRedirects')).toBeGreaterThan(redirectsBefore);
  });

  it('connection id matches server side connection id', async () => {
    const connection = redirectedConnection();
    const reconnect = reconnectionOf(connection);
    expect(connection.connectionId).toBeNull();
    await connection.start();
    expect(connection.connectionId).not.toBeNull();
    expect(await connection.invoke('GetCallerConnectionId')).toBe(connection.connectionId);
    const initialConnectionId = connection.connectionId;

    const newConnectionId = await reconnect();
    expect(newConnectionId).not.toBe(initialConnectionId);
    expect(await connection.invoke('GetCallerConnectionId')).toBe(newConnectionId);
    await connection.stop();
    expect(connection.connectionId).toBeNull();
  });

  it('allows Server-Sent Events when negotiating for JSON protocol', async () => {
    const connection = build(undefined, { url: `${server.baseUrl}/testhub-nowebsockets`, protocol: 'json' });
    await connection.start();
    // Which transport was used, as the server tells.
    expect(await connection.invoke('GetActiveTransportName')).toBe('ServerSentEvents');
    await connection.stop();
  });

  it('skips Server-Sent Events when negotiating for MessagePack protocol', async () => {
    const connection = build(undefined, { url: `${server.baseUrl}/testhub-nowebsockets`, protocol: 'messagepack' });
    await connection.start();
    expect(await connection.invoke('GetActiveTransportName')).toBe('LongPolling');
    await connection.stop();
  });

  it('over LongPolling it sends DELETE request and waits for poll to terminate', async () => {
    /** Their TestClient: the default client, keeping the last poll it sent. */
    class PollCapturingClient extends HttpClient {
      pollPromise: Promise<HttpResponse> | null = null;
      readonly methods: string[] = [];

      override send(request: HttpRequest): Promise<HttpResponse> {
        this.methods.push(request.method!);
        const response = httpClient.send(request);
        if (request.method === 'GET') this.pollPromise = response;
        return response;
      }
    }
    const pollCapturing = new PollCapturingClient();
    const connection = build(HttpTransportType.LongPolling, { options: { httpClient: pollCapturing } });
    await connection.start();
    expect(pollCapturing.pollPromise).not.toBeNull();
    // Stopping aborts the poll, which may then reject with an AbortError, and sends the DELETE.
    const stopped = connection.stop();
    await pollCapturing.pollPromise!.catch((error: unknown) => {
      if (!(error instanceof AbortError)) throw error;
    });
    await stopped;
    expect(pollCapturing.methods.at(-1)).toBe('DELETE');
  });

  // skipNegotiation exists for WebSockets only.
  describe.runIf(TRANSPORTS.includes(HttpTransportType.WebSockets))('skipping negotiation (WebSockets)', () => {
    it('can reconnect after skipping negotiation', async () => {
      const connection = build(HttpTransportType.WebSockets, { options: SKIPPING_NEGOTIATION, automaticReconnect: true });
      const reconnect = reconnectionOf(connection);
      await connection.start();
      expect(await reconnect()).toBeUndefined();
      expect(await connection.invoke('Echo', 'test')).toBe('test');
    });

    it('connection id is always null if negotiation is skipped', async () => {
      const connection = build(HttpTransportType.WebSockets, { options: SKIPPING_NEGOTIATION });
      expect(connection.connectionId).toBeNull();
      await connection.start();
      expect(connection.connectionId).toBeNull();
      await connection.stop();
      expect(connection.connectionId).toBeNull();
    });
  });
});
