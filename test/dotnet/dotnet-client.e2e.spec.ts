import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { startFunctionalServer } from '../functional/functional-app.js';
import { expectCase, type CaseExpectation } from '../support/dotnet-cases.js';
import { buildDotnetProject, runDotnetCases, type ObservedCase } from '../support/dotnet.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

// The official .NET client (Microsoft.AspNetCore.SignalR.Client 10.0.x, with its MessagePack
// protocol package) against the functional test hub and the sample app. The C# program
// (test/dotnet/InteropClient) runs every case in one process and writes what it observed, one
// JSON line per case; each case below asserts on its line.

const MESSAGE = '你好，世界！';
const WIRES = ['json/WebSockets', 'json/ServerSentEvents', 'json/LongPolling', 'messagepack/WebSockets', 'messagepack/LongPolling'] as const;
/** Only WebSockets resume a connection: the official clients use stateful reconnect on no other transport. */
const RESUMING_WIRES = ['json/WebSockets', 'messagepack/WebSockets'] as const;

/** The error the test hub's InvalidOperationException reaches the client as, with detailed errors on. */
function detailed(method: string): string {
  return `HubException: An unexpected error occurred invoking '${method}' on the server. InvalidOperationException: An error occurred.`;
}

function refused(status: string): CaseExpectation {
  return { error: `HttpRequestException: Response status code does not indicate success: ${status}.` };
}

function testHubCases(wire: string): Array<[string, CaseExpectation]> {
  const transport = wire.split('/')[1];
  return [
    ['start', { value: 'Connected' }],
    ['Echo', { value: MESSAGE }],
    ['GetActiveTransportName', { value: transport }],
    ["GetCallerConnectionId is the client's ConnectionId", { value: true }],
    [
      'SendComplexObject',
      { value: { String: 'hello world', IntArray: [1, 2, 3], ByteArray: '010203', Guid: '00010203-0405-0607-0706-050403020100', DateTime: '2000-01-01T00:00:00.0000000Z' } },
    ],
    [
      'EchoComplexObject',
      { value: { String: 'hello world', IntArray: [1, 2, 3], ByteArray: '0A0B0C', Guid: '00010203-0405-0607-0706-050403020100', DateTime: '2002-02-02T02:02:02.0000000Z' } },
    ],
    ['InvokeWithString calls back Message', { value: MESSAGE }],
    ['Stream as IAsyncEnumerable', { value: ['a', 'b', 'c'] }],
    ['Stream as ChannelReader', { value: ['a', 'b', 'c'] }],
    ['EmptyStream', { value: 0 }],
    ['StreamThrowException', { error: detailed('StreamThrowException') }],
    ['InfiniteStream canceled by the client', { value: 'StreamCanceled' }],
    ['StreamingConcat from IAsyncEnumerable', { value: 'abc' }],
    ['StreamingConcat from ChannelReader', { value: 'xyz' }],
    ['ThrowException with detailed errors', { error: detailed('ThrowException') }],
    ['client result', { value: '10' }],
    ['unknown method', { error: "HubException: Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist." }],
    ['stop', { value: 'closed without error' }],
  ];
}

const AUTOMATIC_RECONNECT: CaseExpectation = { value: { reconnecting: true, newConnectionId: true, echo: MESSAGE } };
const STATEFUL_RECONNECT: CaseExpectation = { value: { reconnecting: false, sameConnectionId: true, socketsOpened: 1, message: MESSAGE } };

function sampleAppCases(): Array<[string, CaseExpectation]> {
  return [
    ['Whoami with an access token provider', { value: { name: 'alice', roles: ['user'] } }],
    ['Echo validates its payload', { value: { echoed: 'hi', invalid: expect.stringContaining('text') } }],
    ['Fail is sanitized', { error: "HubException: An unexpected error occurred invoking 'Fail' on the server." }],
    ['JoinRoom admins refused for alice', { error: "HubException: An unexpected error occurred invoking 'JoinRoom' on the server. HubException: You are not allowed to join 'admins'." }],
    ['Announce refused for alice', { error: "HubException: Failed to invoke 'Announce' because user is unauthorized" }],
    ['Counter stream', { value: [0, 1, 2] }],
    ['Sum of a ChannelReader', { value: 10 }],
    ['anonymous Secret refused on /hubs/public', { value: { pong: 'pong', secret: "Failed to invoke 'Secret' because user is unauthorized" } }],
    ['anonymous /hubs/chat refused', refused('401 (Unauthorized)')],
    ['cross-origin client refused', refused('403 (Forbidden)')],
    ['invalid access token refused', refused('401 (Unauthorized)')],
  ];
}

describe('the official .NET client (Microsoft.AspNetCore.SignalR.Client)', () => {
  let testHubServer: RunningHubApp;
  let sampleApp: RunningHubApp;
  let observed: Map<string, ObservedCase>;

  beforeAll(async () => {
    const [program] = await Promise.all([
      buildDotnetProject('dotnet/InteropClient'),
      (async () => {
        testHubServer = await startFunctionalServer('http');
        sampleApp = await listenOnLoopback(await createSampleApp({ logger: false }));
      })(),
    ]);
    observed = await runDotnetCases(program, [testHubServer.baseUrl, sampleApp.baseUrl]);
  }, 240_000);

  afterAll(async () => {
    await testHubServer?.close();
    await sampleApp?.close();
  });

  describe.each(WIRES)('test hub over %s', (wire) => {
    it.each(testHubCases(wire))('%s', (name, expectation) => expectCase(observed.get(`${wire} ${name}`), expectation));
  });

  it.each(WIRES)('%s: automatic reconnect after a dropped transport', (wire) =>
    expectCase(observed.get(`${wire} automatic reconnect after a dropped transport`), AUTOMATIC_RECONNECT));

  it.each(RESUMING_WIRES)('%s: stateful reconnect after a dropped socket', (wire) =>
    expectCase(observed.get(`${wire} stateful reconnect after a dropped socket`), STATEFUL_RECONNECT));

  describe.each(WIRES)('sample app over %s', (wire) => {
    it.each(sampleAppCases())('%s', (name, expectation) => expectCase(observed.get(`${wire} sample: ${name}`), expectation));
  });
});
