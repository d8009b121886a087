import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionFeatures } from '../../src/connection/connection-features.js';
import { ConnectionSocket } from '../../src/connection/connection-socket.js';
import { ConnectionStartup, type StartupSteps } from '../../src/connection/connection-startup.js';
import type { HubRuntime } from '../../src/connection/hub-runtime.js';
import { HubRegistration } from '../../src/connection/hub-registration.js';
import type { HubLifetimeManager } from '../../src/lifetime/hub-lifetime-manager.js';
import type { ResolvedHubOptions } from '../../src/options/hub-options.js';
import type { HubProtocol } from '../../src/protocol/hub-protocol.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';
import { bareRuntime, type FrameLog, Loopback } from '../support/loopback.js';
import { waitFor } from '../support/wait.js';

const RS = '\u001e';
const HANDSHAKE = `{"protocol":"json","version":1}${RS}`;

/** Counts what the hub and the lifetime manager hear; the hub's onConnected waits for `release`. */
class HubProbe {
  readonly heard: string[] = [];
  release!: () => void;
  private readonly onConnectedMayReturn = new Promise<void>((resolve) => (this.release = resolve));

  runtime(options: Partial<ResolvedHubOptions>): HubRuntime {
    const json = new JsonHubProtocol();
    const messagePack = new MessagePackHubProtocol();
    const lifetimeManager = {
      onConnected: async () => void this.heard.push('registered'),
      onDisconnected: async () => void this.heard.push('unregistered'),
    } as unknown as HubLifetimeManager;
    return bareRuntime(options, {
      protocols: new Map<string, HubProtocol>([
        [json.name, json],
        [messagePack.name, messagePack],
      ]),
      lifetimeManager,
      onConnected: async () => {
        this.heard.push('onConnected');
        await this.onConnectedMayReturn;
      },
      onDisconnected: async () => void this.heard.push('onDisconnected'),
    });
  }
}

interface Started {
  readonly client: FrameLog;
  readonly startup: ConnectionStartup;
  readonly steps: string[];
  readonly held: string[];
}

let loopback: Loopback;
beforeAll(async () => (loopback = await Loopback.start()));
afterAll(() => loopback.close());

async function start(probe: HubProbe, options: Partial<ResolvedHubOptions> = {}, features: ConnectionFeatures = { groupsTokens: false }): Promise<Started> {
  const { client, serverSide } = await loopback.connect();
  const runtime = probe.runtime(options);
  const steps: string[] = [];
  const held: string[] = [];
  const wire = new ConnectionSocket(serverSide, 1 << 20, 1 << 20, {
    onFrame: (data) => startup.receive(data),
    onSocketClosed: () => {},
    closeAsSlowConsumer: () => {},
    unacknowledgedBytes: () => 0,
  });
  const registration = new HubRegistration(runtime, { connectionId: 'c1' } as never);
  const record: StartupSteps = {
    agreed: (protocol, replay) => void steps.push(`agreed ${protocol.name}${replay ? ', stateful' : ''}`),
    started: (frames) => {
      steps.push('started');
      held.push(...frames.map((frame) => frame.toString('utf8')));
    },
    failed: () => void steps.push('failed'),
    refused: () => void steps.push('refused'),
  };
  const startup = new ConnectionStartup(runtime, 'c1', wire, registration, record, features);
  return { client, startup, steps, held };
}

describe('ConnectionStartup, on a real loopback socket', () => {
  it('refuses a handshake that does not come before the deadline, with ASP.NET\'s text', async () => {
    const { client, steps } = await start(new HubProbe(), { handshakeTimeoutMs: 50 });
    expect(await client.closed).toBe(1000);
    expect(client.frames).toEqual([`{"error":"Handshake was canceled."}${RS}`]);
    expect(steps).toEqual(['refused']);
  });

  it('hands over, in order, what the client sent while onConnected ran, and only then starts', async () => {
    const probe = new HubProbe();
    const { client, steps, held } = await start(probe);
    client.socket.send(`${HANDSHAKE}{"type":6}${RS}`);
    client.socket.send(`{"type":1,"target":"a","arguments":[]}${RS}`);
    await waitFor(() => probe.heard.includes('onConnected'), 5000);
    expect(steps).toEqual(['agreed json']);
    probe.release();
    await waitFor(() => steps.includes('started'), 5000);
    expect(held).toEqual([`{"type":6}${RS}`, `{"type":1,"target":"a","arguments":[]}${RS}`]);
    expect(client.frames[0]).toBe(`{}${RS}`);
  });

  it('fails a start whose client sends more meanwhile than may be held', async () => {
    const { client, steps } = await start(new HubProbe(), { maximumQueuedInvocationsPerClient: 2 });
    client.socket.send(HANDSHAKE);
    for (let index = 0; index < 3; index++) client.socket.send(`{"type":6}${RS}`);
    await waitFor(() => steps.includes('failed'), 5000);
    expect(steps).toEqual(['agreed json', 'failed']);
  });

  it('fails a start whose onConnected does not return before the deadline', async () => {
    const { client, steps } = await start(new HubProbe(), { handshakeTimeoutMs: 100 });
    client.socket.send(HANDSHAKE);
    await waitFor(() => steps.includes('failed'), 5000);
    expect(steps).toEqual(['agreed json', 'failed']);
  });

  it('undoes the registration of a connection that ended while onConnected ran', async () => {
    const probe = new HubProbe();
    const { client, startup, steps } = await start(probe);
    client.socket.send(HANDSHAKE);
    await waitFor(() => probe.heard.includes('onConnected'), 5000);
    startup.end();
    probe.release();
    await waitFor(() => probe.heard.includes('onDisconnected'), 5000);
    expect(probe.heard).toEqual(['registered', 'onConnected', 'unregistered', 'onDisconnected']);
    expect(steps).toEqual(['agreed json']);
  });

  it('keeps a replay for a version 2 client only where the transport carries stateful reconnect', async () => {
    const stateful = await start(new HubProbe());
    stateful.client.socket.send(`{"protocol":"json","version":2}${RS}`);
    const overHttp = await start(new HubProbe(), {}, { groupsTokens: false, statefulReconnect: false });
    overHttp.client.socket.send(`{"protocol":"json","version":2}${RS}`);
    await waitFor(() => stateful.steps.length > 0 && overHttp.steps.length > 0, 5000);
    expect([stateful.steps, overHttp.steps]).toEqual([['agreed json, stateful'], ['agreed json']]);
  });

  it("refuses a binary protocol over a text-only transport, with ASP.NET Core's text", async () => {
    const { client, steps } = await start(new HubProbe(), {}, { groupsTokens: false, textOnly: true });
    client.socket.send(`{"protocol":"messagepack","version":1}${RS}`);
    expect(await client.closed).toBe(1000);
    expect(client.frames).toEqual([
      `{"error":"Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."}${RS}`,
    ]);
    expect(steps).toEqual(['refused']);
  });
});
