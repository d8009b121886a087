import { Injectable } from '@nestjs/common';
import {
  Caller,
  Clients,
  Groups,
  Hub,
  HubException,
  HubItems,
  HubMethod,
  UploadStream,
  type GroupManager,
  type HubCallerClients,
  type HubCallerContext,
  type OnHubConnected,
  type OnHubDisconnected,
} from 'nestjs-signalr';
import { finalize, interval, map, Observable, take } from 'rxjs';

/** Records what the hub saw, for assertions. */
@Injectable()
export class HubEvents {
  readonly connected: string[] = [];
  readonly disconnected: string[] = [];
  readonly fireAndForget: unknown[] = [];
  canceledStreams = 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Hub('/hubs/test')
export class TestHub implements OnHubConnected, OnHubDisconnected {
  constructor(private readonly events: HubEvents) {}

  onConnected(caller: HubCallerContext): void {
    this.events.connected.push(caller.connectionId);
  }

  onDisconnected(caller: HubCallerContext): void {
    this.events.disconnected.push(caller.connectionId);
  }

  echo(value: unknown): unknown {
    return value;
  }

  add(a: number, b: number): number {
    return a + b;
  }

  async delayedEcho(value: string, ms: number): Promise<string> {
    await sleep(ms);
    return value;
  }

  nothing(): void {}

  record(value: unknown): void {
    this.events.fireAndForget.push(value);
  }

  /** Records a number and tells the caller, so tests can count both directions. */
  async recordAndReply(value: number, @Clients() clients: HubCallerClients): Promise<void> {
    this.events.fireAndForget.push(value);
    await clients.caller.send('Recorded', value);
  }

  @HubMethod({ name: 'Renamed' })
  internalName(): string {
    return 'renamed';
  }

  fail(): never {
    throw new Error('database password is hunter2');
  }

  refuse(): never {
    throw new HubException('You cannot do that.');
  }

  whoAmI(@Caller() caller: HubCallerContext): string {
    return caller.connectionId;
  }

  remember(value: string, @HubItems() items: Map<unknown, unknown>): void {
    items.set('remembered', value);
  }

  recall(@HubItems() items: Map<unknown, unknown>): unknown {
    return items.get('remembered') ?? null;
  }

  async *counter(count: number, delayMs: number): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) {
      yield i;
      await sleep(delayMs);
    }
  }

  async *endless(): AsyncGenerator<number> {
    let i = 0;
    try {
      for (;;) {
        yield i++;
        await sleep(5);
      }
    } finally {
      this.events.canceledStreams++;
    }
  }

  @HubMethod()
  ticks(count: number): Observable<number> {
    return interval(1).pipe(take(count), map((i) => i * 10));
  }

  async *failingStream(): AsyncGenerator<number> {
    yield 1;
    throw new Error('stream secret hunter2');
  }

  async sum(@UploadStream() numbers: AsyncIterable<number>): Promise<number> {
    let total = 0;
    for await (const n of numbers) total += n;
    return total;
  }

  async *doubleEach(@UploadStream() numbers: AsyncIterable<number>): AsyncGenerator<number> {
    for await (const n of numbers) yield n * 2;
  }

  async askCaller(question: string, @Clients() clients: HubCallerClients): Promise<unknown> {
    return clients.caller.invoke('Answer', question);
  }

  /** What the hub sees of a client result that failed. */
  async askCallerForItsError(question: string, @Clients() clients: HubCallerClients): Promise<unknown> {
    try {
      return await clients.caller.invoke('Answer', question);
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message, code: (error as { code?: unknown }).code };
    }
  }

  /** Counts its cancellation as soon as it comes, even before the first item. */
  @HubMethod({ stream: true })
  watchedTicks(): Observable<number> {
    return interval(5).pipe(finalize(() => this.events.canceledStreams++));
  }

  bytesAndDates(): unknown {
    return {
      buffer: Buffer.from([1, 2, 3]),
      bytes: new Uint8Array([4]),
      midnight: new Date(Date.UTC(2000, 0, 1)),
      precise: new Date(Date.UTC(2000, 0, 1, 0, 0, 0, 500)),
    };
  }

  async joinGroup(group: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, group);
  }

  async leaveGroup(group: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.removeFromGroup(caller.connectionId, group);
  }

  async sendToGroup(group: string, text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.group(group).send('GroupMessage', group, text);
  }

  async sendToOthersInGroup(group: string, text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.othersInGroup(group).send('GroupMessage', group, text);
  }

  async broadcast(text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.all.send('Broadcast', text);
  }

  async tellOthers(text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.others.send('Broadcast', text);
  }

  async tellCaller(text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.caller.send('Broadcast', text);
  }

  async tellConnections(ids: string[], text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.clients(ids).send('Broadcast', text);
  }

  async tellAllExcept(ids: string[], text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.allExcept(ids).send('Broadcast', text);
  }

  async tellGroups(groups: string[], text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.groups(groups).send('Broadcast', text);
  }

  async tellGroupExcept(group: string, ids: string[], text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.groupExcept(group, ids).send('Broadcast', text);
  }

  _hidden(): string {
    return 'must not be callable';
  }

  @HubMethod({ exclude: true })
  excluded(): string {
    return 'must not be callable';
  }
}
