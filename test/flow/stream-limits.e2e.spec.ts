import { Subject, type HubConnection, type ISubscription } from '@microsoft/signalr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool, WIRE_PROTOCOLS } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { FlowHub, FlowProbe } from './flow-hub.js';

const STREAM_LIMIT = 2;
const OBSERVABLE_CAPACITY = 100;

describe.each(WIRE_PROTOCOLS)('stream limits (%s)', (protocol) => {
  let server: RunningHubApp;
  let clients: ClientPool;
  let url: string;

  beforeAll(async () => {
    server = await startHubApp([FlowHub, FlowProbe], {
      maximumConcurrentStreamsPerClient: STREAM_LIMIT,
      maximumQueuedObservableItems: OBSERVABLE_CAPACITY,
      // Streams are not invocations: one slot is enough to run several of them.
      maximumParallelInvocationsPerClient: 1,
    });
    url = `${server.baseUrl}/hubs/flow`;
    clients = new ClientPool(protocol);
  });

  afterEach(() => clients.stopAll());
  afterAll(() => server.close());

  it('refuses a server stream past the limit with its reason, and admits one again once a stream ends', async () => {
    const client = await clients.connect(url);
    const open = [openEndless(client), openEndless(client)];
    await Promise.all(open.map((stream) => stream.firstItem));

    const refused = openEndless(client);
    expect((await refused.error).message).toContain(`because the client may have at most ${STREAM_LIMIT} streams open at once`);

    open[0].subscription.dispose();
    // Messages are handled in order: once the echo is answered, the cancel has been seen.
    expect(await client.invoke('echo', 1)).toBe(1);
    const admitted = openEndless(client);
    await admitted.firstItem;
  });

  it('counts upload streams with server streams', async () => {
    const client = await clients.connect(url);
    const running = openEndless(client);
    await running.firstItem;
    const first = new Subject<number>();
    const accepted = client.invoke('sum', first);
    const second = new Subject<number>();
    await expect(client.invoke('sum', second)).rejects.toThrow(`at most ${STREAM_LIMIT} streams open at once`);
    first.next(20);
    first.next(22);
    first.complete();
    expect(await accepted).toBe(42);
  });

  it('ends an Observable stream that outgrows its queue with a reason, after the items it held', async () => {
    const client = await clients.connect(url);
    const small: number[] = [];
    await new Promise<void>((resolve, reject) =>
      client.stream<number>('burst', 50).subscribe({ next: (n) => small.push(n), complete: resolve, error: reject }),
    );
    expect(small).toEqual([...Array(50).keys()]);

    const large: number[] = [];
    const error = await new Promise<Error>((resolve, reject) =>
      client.stream<number>('burst', 500).subscribe({ next: (n) => large.push(n), complete: () => reject(new Error('completed')), error: resolve }),
    );
    expect(error.message).toContain(`its Observable had ${OBSERVABLE_CAPACITY} items waiting`);
    expect(large).toEqual([...Array(OBSERVABLE_CAPACITY).keys()]);
  });
});

/** Starts an endless server stream; resolves `firstItem` on its first item and `error` if it fails. */
function openEndless(client: HubConnection): { subscription: ISubscription<number>; firstItem: Promise<void>; error: Promise<Error> } {
  let firstItem!: () => void;
  let failed!: (error: Error) => void;
  const result = {
    firstItem: new Promise<void>((resolve) => (firstItem = resolve)),
    error: new Promise<Error>((resolve) => (failed = resolve)),
  };
  const subscription = client.stream<number>('endless').subscribe({ next: () => firstItem(), error: (error) => failed(error), complete: () => undefined });
  return { ...result, subscription };
}
