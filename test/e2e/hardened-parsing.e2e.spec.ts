import type { HubConnection } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket, RS } from '../support/raw-client.js';
import { sleep, waitFor } from '../support/wait.js';
import { HubEvents, TestHub } from './test-hubs.js';

const CLOSE_WITH_ERROR = { type: 7, error: 'Connection closed with an error.', allowReconnect: true };

describe('hardened parsing through a live server: only the offender suffers', () => {
  let server: RunningHubApp;
  let hubUrl: string;
  let bystander: HubConnection;

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents], { maximumQueuedInvocationsPerClient: 5 });
    hubUrl = `${server.baseUrl}/hubs/test`;
    bystander = await connectClient(hubUrl);
  });

  afterAll(async () => {
    await bystander.stop();
    await server.close();
  });

  const expectBystanderServed = () => expect(bystander.invoke('Add', 20, 22)).resolves.toBe(42);

  it('never lets __proto__ or constructor keys reach Object.prototype', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(
      `{"type":1,"invocationId":"1","target":"Echo","arguments":[{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}]}${RS}` +
        `{"type":1,"invocationId":"2","target":"Echo","arguments":[{"\\u005f_proto__":{"polluted":"yes"}}],"__proto__":{"polluted":"yes"}}${RS}`,
    );
    await raw.until(() => raw.messages().filter((m) => m.type === 3).length === 2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    raw.socket.close();
  });

  it('closes a connection that nests deeper than the limit', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(`{"type":1,"invocationId":"1","target":"Echo","arguments":[${'['.repeat(40)}${']'.repeat(40)}]}${RS}`);
    await raw.closed;
    expect(raw.messages().at(-1)).toEqual(CLOSE_WITH_ERROR);
    await expectBystanderServed();
  });

  it('closes on an invalid invocation id', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(`{"type":1,"invocationId":${'1'.repeat(3)},"target":"Add","arguments":[1,2]}${RS}`);
    await raw.closed;
    expect(raw.messages().at(-1)).toEqual(CLOSE_WITH_ERROR);
  });

  it('answers a reused invocation id with an error, not a second run', async () => {
    const raw = await RawHubSocket.connected(hubUrl);
    raw.send(
      `{"type":1,"invocationId":"a","target":"DelayedEcho","arguments":["first",50]}${RS}` +
        `{"type":1,"invocationId":"a","target":"DelayedEcho","arguments":["second",1]}${RS}`,
    );
    await raw.until(() => raw.messages().filter((m) => m.type === 3).length === 2);
    expect(raw.messages().filter((m) => m.type === 3)).toEqual([
      { type: 3, invocationId: 'a', error: "Invocation ID 'a' is already in use." },
      { type: 3, invocationId: 'a', result: 'first' },
    ]);
    raw.socket.close();
  });

  it('queues invocations beyond the parallel limit in order, and stops reading a flood until it drains', async () => {
    const orderly = await RawHubSocket.connected(hubUrl);
    orderly.send(
      [1, 2, 3, 4].map((i) => `{"type":1,"invocationId":"${i}","target":"DelayedEcho","arguments":["${i}",${5 - i}]}${RS}`).join(''),
    );
    await orderly.until(() => orderly.messages().filter((m) => m.type === 3).length === 4);
    expect(orderly.messages().filter((m) => m.type === 3).map((m) => m.result)).toEqual(['1', '2', '3', '4']);
    orderly.socket.close();

    // 50 invocations in one frame (the official client batches what queues up during a send).
    const flooder = await RawHubSocket.connected(hubUrl);
    const flood = Array.from({ length: 50 }, (_, i) => `{"type":1,"invocationId":"f${i}","target":"DelayedEcho","arguments":["${i}",40]}${RS}`);
    flooder.send(flood.join(''));
    // While they wait, what follows stays with the sender: the server does not read it.
    const padding = `{"type":6,"padding":"${'p'.repeat(30_000)}"}${RS}`;
    for (let i = 0; i < 700; i++) flooder.send(padding);
    await sleep(500);
    expect(flooder.socket.bufferedAmount).toBeGreaterThan(10_000_000);
    await expectBystanderServed();

    await flooder.until(() => flooder.messages().filter((m) => m.type === 3).length === 50, 10_000);
    expect(flooder.messages().filter((m) => m.type === 3).map((m) => m.result)).toEqual(flood.map((_, i) => String(i)));
    await waitFor(() => flooder.socket.bufferedAmount === 0, 10_000);
    flooder.socket.close();
  });
});
