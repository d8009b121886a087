import { afterAll, beforeAll, describe, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { expectCase, type CaseExpectation } from '../support/dotnet-cases.js';
import { buildDotnetProject, runDotnetCases, type ObservedCase } from '../support/dotnet.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

// The classic .NET client of SignalR 2.x (Microsoft.AspNet.SignalR.Client 2.4.2) against the
// sample's classic endpoint at /signalr. The C# program (test/dotnet/ClassicClient) runs every
// case in one process and writes what it observed, one JSON line per case; each case below
// asserts on its line.

const TRANSPORTS = ['webSockets', 'serverSentEvents', 'longPolling'] as const;

function cases(transport: string): Array<[string, CaseExpectation]> {
  return [
    ['start', { value: { state: 'Connected', transport } }],
    ['whoami names the user of the access_token query string', { value: { Name: 'alice', Roles: ['user'] } }],
    ['echo', { value: '你好，世界！' }],
    ['a room message from another client', { value: [`lobby-${transport.toLowerCase()}`, 'bob', 'hello alice'] }],
    ['an announcement to everyone', { value: ['admin', `hello over ${transport}`] }],
    ["a HubException's message", { error: "HubException: You are not allowed to join 'admins'." }],
    // As SignalR 2.x, the server flags only a HubException's error as a hub error: the client throws
    // its HubException for those, an InvalidOperationException for the rest.
    ['any other error, sanitized', { error: "InvalidOperationException: An unexpected error occurred invoking 'fail' on the server." }],
    ["a method alice's role may not call", { error: "InvalidOperationException: Failed to invoke 'announce' because user is unauthorized" }],
    ['anonymous publicHub', { value: { pong: 'pong', secret: "InvalidOperationException: Failed to invoke 'secret' because user is unauthorized" } }],
    ['anonymous chatHub refused', { value: 401 }],
    ['forged access token refused', { value: 401 }],
    ['another origin refused', { value: 403 }],
    ['stop', { value: 'Disconnected' }],
  ];
}

describe('the classic .NET client (Microsoft.AspNet.SignalR.Client 2.4.2) on the sample app', () => {
  let sampleApp: RunningHubApp;
  let observed: Map<string, ObservedCase>;

  beforeAll(async () => {
    let program: string;
    [program, sampleApp] = await Promise.all([buildDotnetProject('dotnet/ClassicClient'), createSampleApp({ logger: false }).then(listenOnLoopback)]);
    observed = await runDotnetCases(program, [sampleApp.baseUrl]);
  }, 240_000);

  afterAll(async () => {
    await sampleApp?.close();
  });

  describe.each(TRANSPORTS)('over %s', (transport) => {
    it.each(cases(transport))('%s', (name, expectation) => expectCase(observed.get(`${transport} ${name}`), expectation));
  });
});
