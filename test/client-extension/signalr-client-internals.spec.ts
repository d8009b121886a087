import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubConnectionBuilder } from '@microsoft/signalr';
import { receivedCount, wrapInnerHttpClient } from '../../src/client-extension/signalr-client-internals.js';
import { ClientPool, WIRE_PROTOCOLS } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { HubEvents, TestHub } from '../e2e/test-hubs.js';

const clientVersion: string = createRequire(import.meta.url)('@microsoft/signalr/package.json').version;

describe.each(WIRE_PROTOCOLS)('the @microsoft/signalr internals the client extension reads (%s)', (protocol) => {
  let server: RunningHubApp;
  const clients = new ClientPool(protocol, true);

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents]);
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('reads how many messages a stateful connection received', async () => {
    const connection = await clients.connect(`${server.baseUrl}/hubs/test`);
    for (let value = 1; value <= 3; value++) await connection.invoke('RecordAndReply', value);
    // Each call brings two messages: the server's call of `Recorded`, then the completion.
    expect(
      receivedCount(connection),
      `@microsoft/signalr ${clientVersion} no longer keeps the received count in HubConnection._messageBuffer._latestReceivedSequenceId: ` +
        'ConnectionResumption cannot resume a connection on another node (src/client-extension/signalr-client-internals.ts)',
    ).toBe(6);
  });
});

describe('the @microsoft/signalr internals AuthenticationRefresh relies on', () => {
  it('finds the HTTP client under the access-token wrapper of a built connection', () => {
    const connection = new HubConnectionBuilder().withUrl('http://127.0.0.1:1/hubs/test', { accessTokenFactory: () => 'token' }).build();
    expect(
      wrapInnerHttpClient(connection, (inner) => inner),
      `@microsoft/signalr ${clientVersion} no longer holds an HTTP client wrapping another in HubConnection.connection: ` +
        'AuthenticationRefresh cannot see negotiate (src/client-extension/signalr-client-internals.ts)',
    ).toBe(true);
  });
});
