import type { HubConnection } from '@microsoft/signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES } from '../../src/connection/outgoing-batch.js';
import { STREAM_PAUSE_BYTES } from '../../src/options/hub-options.js';
import { ClientPool, WIRE_PROTOCOLS } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { PausableSockets } from '../support/pausable-websocket.js';
import { sleep, waitFor } from '../support/wait.js';
import { FlowHub, FlowProbe } from './flow-hub.js';

const LIMIT = 256 * 1024;
const MESSAGE_BYTES = 16 * 1024;

describe.each(WIRE_PROTOCOLS)('outbound flow control (%s)', (protocol) => {
  let server: RunningHubApp;
  let probe: FlowProbe;
  let clients: ClientPool;
  let url: string;

  beforeAll(async () => {
    server = await startHubApp([FlowHub, FlowProbe], { maximumBufferedBytesPerClient: LIMIT });
    probe = server.app.get(FlowProbe);
    url = `${server.baseUrl}/hubs/flow`;
  });

  afterEach(async () => {
    await clients.stopAll();
    probe.reset();
  });

  afterAll(() => server.close());

  function pool(): ClientPool {
    clients = new ClientPool(protocol);
    return clients;
  }

  it('closes a member that stops reading as a slow consumer, while the others get every message in order', async () => {
    const sockets = new PausableSockets();
    const connect = pool();
    const slow = await connect.connect(url, sockets.options());
    const closedWith = new Promise<Error | undefined>((resolve) => slow.onclose(resolve));
    const fast = [await connect.connect(url), await connect.connect(url), await connect.connect(url)];
    for (const member of [slow, ...fast]) await member.invoke('join', 'room');
    const received = fast.map(numbersReceived);

    sockets.current.pause();
    const sent: number = await fast[0].invoke('flood', 'room', 6000, MESSAGE_BYTES, slow.connectionId);

    expect(probe.disconnected.has(slow.connectionId!)).toBe(true);
    // Bounded by the limit, plus the batch being filled when it was crossed.
    expect(probe.maxUnwritten).toBeLessThanOrEqual(LIMIT + MAX_BATCH_BYTES + 2 * MESSAGE_BYTES);
    await waitFor(() => received.every((numbers) => numbers.length === sent), 20_000);
    for (const numbers of received) expect(numbers).toEqual([...Array(sent).keys()]);

    // Once it reads again, the slow client finds why it was closed at the end of its backlog.
    sockets.current.resume();
    const error = await closedWith;
    expect(error?.message).toContain('did not read the messages sent to it fast enough');
  }, 60_000);

  it('pauses a server stream while its client does not read, then resumes it with nothing lost', async () => {
    const sockets = new PausableSockets();
    const client = await pool().connect(url, sockets.options());
    const count = 4000;
    const items: number[] = [];
    sockets.current.pause();
    const done = new Promise<void>((resolve, reject) => {
      client.stream('numbered', count, MESSAGE_BYTES).subscribe({
        next: (item: { n: number }) => items.push(item.n),
        complete: resolve,
        error: reject,
      });
    });
    // The producer stops being asked: fewer items than the stream holds were produced, and each
    // was produced while the package held less than the pause threshold (plus the item itself).
    await producerStalls(probe);
    expect(probe.produced).toBeLessThan(count);
    expect(probe.maxUnwritten).toBeLessThan(STREAM_PAUSE_BYTES + 2 * MESSAGE_BYTES);
    expect(probe.disconnected.has(client.connectionId!)).toBe(false);

    sockets.current.resume();
    await done;
    expect(items).toEqual([...Array(count).keys()]);
  }, 60_000);
});

/** Waits until the stream's producer has not been asked for an item for a while. */
async function producerStalls(probe: FlowProbe): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let seen = -1; probe.produced !== seen || seen === 0; ) {
    if (Date.now() > deadline) throw new Error('The producer never stalled');
    seen = probe.produced;
    await sleep(300);
  }
}

function numbersReceived(connection: HubConnection): number[] {
  const received: number[] = [];
  connection.on('said', (n: number) => received.push(n));
  return received;
}
