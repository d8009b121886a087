import { setImmediate as settled } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HubException } from '../../src/errors/hub-exception.js';
import { HubExceptionFilter } from '../../src/errors/hub-exception-filter.js';
import { invocationErrors } from '../../src/errors/invocation-errors.js';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { ClientResultTracker } from '../../src/hub/client-result-tracker.js';
import type { ConnectionDispatcher } from '../../src/hub/connection-dispatcher.js';
import type { HubCallerContext } from '../../src/hub/hub-caller-context.js';
import type { HubConnectionContext } from '../../src/hub/hub-connection-context.js';
import { HubDispatcher } from '../../src/hub/hub-dispatcher.js';
import type { HubInvocationContext } from '../../src/hub/hub-invocation-context.js';
import type { HubMethodDescriptor } from '../../src/hub/hub-method-explorer.js';
import type { HubMethod } from '../../src/hub/hub-methods.js';
import { InProcessLifetimeManager } from '../../src/lifetime/in-process-lifetime-manager.js';
import { LifetimeManagerCallerClients, LifetimeManagerGroups } from '../../src/lifetime/lifetime-manager-clients.js';
import { resolveHubOptions, type HubOptions } from '../../src/options/hub-options.js';
import { MessageType, type CompletionMessage, type HubMessage } from '../../src/protocol/hub-message.js';
import { ANONYMOUS_REQUEST } from '../support/anonymous-request.js';

/** A server stream that yields only when the test says so, and counts what was asked of it. */
class Producer implements AsyncIterable<number> {
  pulls = 0;
  returned = false;
  private readonly waiting: ((step: IteratorResult<number>) => void)[] = [];

  [Symbol.asyncIterator](): AsyncIterator<number> {
    return {
      next: () => {
        this.pulls++;
        return new Promise((resolve) => this.waiting.push(resolve));
      },
      return: async () => {
        this.returned = true;
        return { value: undefined, done: true };
      },
    };
  }

  async yield(value: number): Promise<void> {
    this.waiting.shift()!({ value, done: false });
    await settled();
  }
}

/** The connection as the dispatcher sees it: what it was sent and told, and whether it can take output. */
class RecordingConnection implements HubConnectionContext {
  readonly sent: HubMessage[] = [];
  readonly signals: string[] = [];
  readonly caller: HubCallerContext = {
    connectionId: 'c1',
    hubPath: '/hubs/unit',
    user: undefined,
    userIdentifier: undefined,
    request: ANONYMOUS_REQUEST,
    items: new Map(),
    abort: () => this.signals.push('abort'),
  };
  private readonly lifetimeManager = new InProcessLifetimeManager();
  readonly clients = new LifetimeManagerCallerClients(this.lifetimeManager, 'c1');
  readonly groups = new LifetimeManagerGroups(this.lifetimeManager);
  readonly clientResults = new ClientResultTracker(30_000);
  private writable: { promise: Promise<void>; release: () => void } | undefined;

  send(message: HubMessage): void {
    this.sent.push(message);
  }

  closeWithError(error: string): void {
    this.signals.push(`close: ${error}`);
  }

  whenWritable(): Promise<void> | undefined {
    return this.writable?.promise;
  }

  invocationBacklogFull(): void {
    this.signals.push('backlog full');
  }

  invocationBacklogEased(): void {
    this.signals.push('backlog eased');
  }

  pauseReading(): void {
    this.signals.push('pause reading');
  }

  resumeReading(): void {
    this.signals.push('resume reading');
  }

  fallBehind(): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.writable = { promise, release };
  }

  async catchUp(): Promise<void> {
    const behind = this.writable;
    this.writable = undefined;
    behind?.release();
    await settled();
  }

  completions(): Pick<CompletionMessage, 'invocationId' | 'result' | 'error'>[] {
    return this.sent
      .filter((message): message is CompletionMessage => message.type === MessageType.Completion)
      .map(({ invocationId, result, error }) => (error === undefined ? { invocationId, result } : { invocationId, error }));
  }

  streamItems(invocationId: string): unknown[] {
    return this.sent.flatMap((message) => (message.type === MessageType.StreamItem && message.invocationId === invocationId ? [message.item] : []));
  }
}

/** Hub methods written by hand, as a hub class would define them; `hold` runs until the test ends it. */
class UnitHub {
  readonly started: string[] = [];
  readonly producers = new Map<string, Producer>();
  /** Every producer, in the order the streaming method made them, ids reused or not. */
  readonly allProducers: Producer[] = [];
  readonly uploaded: unknown[][] = [];
  readonly uploadFailures: unknown[] = [];
  private readonly holds = new Map<string, () => void>();

  methods(): Map<string, HubMethod> {
    return new Map([
      entry({ wireName: 'Hold', argumentCount: 1 }, async (_caller, { arguments: [name] }) => {
        this.started.push(name as string);
        await new Promise<void>((resolve) => this.holds.set(name as string, resolve));
        return name;
      }),
      entry({ wireName: 'Echo', argumentCount: 1 }, async (_caller, { arguments: [value] }) => {
        this.started.push(`echo ${String(value)}`);
        return value;
      }),
      entry({ wireName: 'Ticks', streaming: true }, async (_caller, { invocationId }) => {
        const producer = new Producer();
        this.producers.set(invocationId!, producer);
        this.allProducers.push(producer);
        return producer;
      }),
      entry({ wireName: 'Collect', uploadStreams: [{ index: 0, asObservable: false }] }, async (_caller, context) => {
        const items: unknown[] = [];
        this.uploaded.push(items);
        try {
          for await (const item of context.uploadStreamFor(0) as AsyncIterable<unknown>) items.push(item);
        } catch (error) {
          this.uploadFailures.push(error);
        }
        return items.length;
      }),
    ]);
  }

  async finish(name: string): Promise<void> {
    this.holds.get(name)!();
    await settled();
  }
}

function entry(shape: Partial<HubMethodDescriptor> & { wireName: string }, invoke: (caller: HubCallerContext, invocation: HubInvocationContext) => Promise<unknown>): [string, HubMethod] {
  const descriptor: HubMethodDescriptor = { methodName: shape.wireName, streaming: false, argumentCount: 0, argumentTypes: [], uploadStreams: [], ...shape };
  return [shape.wireName.toLowerCase(), { descriptor, invoke }];
}

function dispatcherWith(options: HubOptions = {}): { dispatcher: ConnectionDispatcher; connection: RecordingConnection; hub: UnitHub } {
  const resolved = resolveHubOptions([options]);
  const hub = new UnitHub();
  const connection = new RecordingConnection();
  const dispatcher = new HubDispatcher(hub.methods(), resolved, new HubExceptionFilter(false)).attach(connection);
  return { dispatcher, connection, hub };
}

const call = (invocationId: string | undefined, target: string, args: unknown[] = [], streamIds?: string[]): HubMessage => ({
  type: MessageType.Invocation,
  invocationId,
  target,
  arguments: args,
  streamIds,
});
const streamCall = (invocationId: string, target: string): HubMessage => ({ type: MessageType.StreamInvocation, invocationId, target, arguments: [] });
const cancel = (invocationId: string): HubMessage => ({ type: MessageType.CancelInvocation, invocationId });

describe('ConnectionDispatcher: the invocation queue', () => {
  it('runs invocations in arrival order, at most maximumParallelInvocationsPerClient at once', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumParallelInvocationsPerClient: 2 });
    for (const name of ['a', 'b', 'c', 'd']) dispatcher.dispatch(call(name, 'hold', [name]));
    await settled();
    expect(hub.started).toEqual(['a', 'b']);

    await hub.finish('b');
    expect(hub.started).toEqual(['a', 'b', 'c']);
    await hub.finish('a');
    await hub.finish('c');
    await hub.finish('d');
    expect(hub.started).toEqual(['a', 'b', 'c', 'd']);
    expect(connection.completions()).toEqual(['b', 'a', 'c', 'd'].map((name) => ({ invocationId: name, result: name })));
  });

  it('finds methods case-insensitively and answers an unknown one at once, without queueing it', async () => {
    const { dispatcher, connection, hub } = dispatcherWith();
    dispatcher.dispatch(call('1', 'hold', ['running']));
    dispatcher.dispatch(call('2', 'nowhere'));
    dispatcher.dispatch(call('3', 'ECHO', ['queued']));
    await settled();
    expect(connection.completions()).toEqual([{ invocationId: '2', error: invocationErrors.methodNotFound('nowhere') }]);
    await hub.finish('running');
    expect(hub.started).toEqual(['running', 'echo queued']);
  });

  it('refuses an invocation id that is still in use', async () => {
    const { dispatcher, connection, hub } = dispatcherWith();
    dispatcher.dispatch(call('1', 'hold', ['first']));
    dispatcher.dispatch(call('1', 'echo', ['second']));
    await settled();
    expect(connection.completions()).toEqual([{ invocationId: '1', error: invocationErrors.invocationIdInUse('1') }]);
    await hub.finish('first');
    dispatcher.dispatch(call('1', 'echo', ['reused once free']));
    await settled();
    expect(connection.completions().at(-1)).toEqual({ invocationId: '1', result: 'reused once free' });
  });
});

describe('ConnectionDispatcher: the backlog', () => {
  it('signals a full backlog once past maximumQueuedInvocationsPerClient, and eased once it is back within', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumQueuedInvocationsPerClient: 2 });
    for (const name of ['a', 'b', 'c']) dispatcher.dispatch(call(name, 'hold', [name]));
    expect(connection.signals).toEqual([]);
    dispatcher.dispatch(call('d', 'hold', ['d']));
    dispatcher.dispatch(call('e', 'hold', ['e']));
    expect(connection.signals).toEqual(['backlog full']);

    // a ends: b starts, c, d and e still wait.
    await hub.finish('a');
    expect(connection.signals).toEqual(['backlog full']);
    // b ends: c starts, d and e wait, within the limit again.
    await hub.finish('b');
    expect(connection.signals).toEqual(['backlog full', 'backlog eased']);
    await hub.finish('c');
    expect(connection.signals).toEqual(['backlog full', 'backlog eased']);
  });
});

describe('ConnectionDispatcher: streams', () => {
  it('refuses a stream past maximumConcurrentStreamsPerClient; a canceled one frees its place at once', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumConcurrentStreamsPerClient: 2 });
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    dispatcher.dispatch(streamCall('s2', 'ticks'));
    dispatcher.dispatch(streamCall('s3', 'ticks'));
    await settled();
    expect(connection.completions()).toEqual([{ invocationId: 's3', error: invocationErrors.tooManyStreams('ticks', 2) }]);

    dispatcher.dispatch(cancel('s1'));
    dispatcher.dispatch(streamCall('s4', 'ticks'));
    await settled();
    expect(hub.producers.get('s1')!.returned).toBe(true);
    expect([...hub.producers.keys()]).toEqual(['s1', 's2', 's4']);
    expect(connection.completions()).toHaveLength(1);

    await hub.producers.get('s4')!.yield(7);
    expect(connection.streamItems('s4')).toEqual([7]);
  });

  it('cancels a stream whose cancellation arrives in the same turn as its invocation', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumConcurrentStreamsPerClient: 1 });
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    dispatcher.dispatch(cancel('s1'));
    await settled();
    const producer = hub.producers.get('s1')!;
    expect(producer.returned).toBe(true);
    expect(producer.pulls).toBe(0);

    // Its place was freed: one more stream fits under the limit of 1.
    dispatcher.dispatch(streamCall('s2', 'ticks'));
    await settled();
    await hub.producers.get('s2')!.yield(7);
    expect(connection.streamItems('s2')).toEqual([7]);
    expect(connection.completions()).toEqual([]);
  });

  it('cancels a stream whose call still waits in the queue', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumParallelInvocationsPerClient: 1 });
    dispatcher.dispatch(call('1', 'hold', ['running']));
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    await settled();
    dispatcher.dispatch(cancel('s1'));
    await hub.finish('running');
    expect(hub.producers.get('s1')!.returned).toBe(true);
    expect(hub.producers.get('s1')!.pulls).toBe(0);
    expect(connection.completions()).toEqual([{ invocationId: '1', result: 'running' }]);
  });

  it('keeps a canceled stream apart from a new one that reuses its id', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumParallelInvocationsPerClient: 1 });
    dispatcher.dispatch(call('1', 'hold', ['running']));
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    dispatcher.dispatch(cancel('s1'));
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    await hub.finish('running');
    await settled();
    const [canceled, reused] = hub.allProducers;
    expect(canceled.returned).toBe(true);
    expect(canceled.pulls).toBe(0);
    expect(reused.returned).toBe(false);
    await reused.yield(7);
    expect(connection.streamItems('s1')).toEqual([7]);
  });

  it("fails an upload the client ended with an error with a HubException carrying the client's text", async () => {
    const { dispatcher, connection, hub } = dispatcherWith();
    dispatcher.dispatch(call('u', 'collect', [], ['up1']));
    dispatcher.dispatch({ type: MessageType.StreamItem, invocationId: 'up1', item: 'x' });
    dispatcher.dispatch({ type: MessageType.Completion, invocationId: 'up1', error: 'Something bad' });
    await settled();
    expect(hub.uploaded).toEqual([['x']]);
    expect(hub.uploadFailures).toEqual([new HubException('Something bad')]);
    expect(hub.uploadFailures[0]).toBeInstanceOf(HubException);
    expect(connection.completions()).toEqual([{ invocationId: 'u', result: 1 }]);
  });

  it('counts an upload stream against the same limit until the client completes it', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumConcurrentStreamsPerClient: 1 });
    dispatcher.dispatch(call('u', 'collect', [], ['up1']));
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    await settled();
    expect(connection.completions()).toEqual([{ invocationId: 's1', error: invocationErrors.tooManyStreams('ticks', 1) }]);

    dispatcher.dispatch({ type: MessageType.StreamItem, invocationId: 'up1', item: 'x' });
    dispatcher.dispatch({ type: MessageType.Completion, invocationId: 'up1' });
    await settled();
    dispatcher.dispatch(streamCall('s2', 'ticks'));
    await settled();
    expect(hub.uploaded).toEqual([['x']]);
    expect(connection.completions()).toEqual([
      { invocationId: 's1', error: invocationErrors.tooManyStreams('ticks', 1) },
      { invocationId: 'u', result: 1 },
    ]);
    expect(hub.producers.has('s2')).toBe(true);
  });

  it('stops reading from the client while an upload buffers streamBufferCapacity items, and resumes as they are read', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumParallelInvocationsPerClient: 1, streamBufferCapacity: 2 });
    // The upload's call waits behind a running one, so its items buffer.
    dispatcher.dispatch(call('1', 'hold', ['first']));
    dispatcher.dispatch(call('u', 'collect', [], ['up1']));
    dispatcher.dispatch({ type: MessageType.StreamItem, invocationId: 'up1', item: 1 });
    expect(connection.signals).toEqual([]);
    dispatcher.dispatch({ type: MessageType.StreamItem, invocationId: 'up1', item: 2 });
    expect(connection.signals).toEqual(['pause reading']);

    await hub.finish('first');
    expect(connection.signals).toEqual(['pause reading', 'resume reading']);
    expect(hub.uploaded).toEqual([[1, 2]]);
  });
});

describe('ConnectionDispatcher: a connection that is behind', () => {
  it('holds invocations until the connection can take output', async () => {
    const { dispatcher, connection, hub } = dispatcherWith();
    connection.fallBehind();
    dispatcher.dispatch(call('1', 'echo', ['held']));
    await settled();
    expect(hub.started).toEqual([]);
    await connection.catchUp();
    expect(hub.started).toEqual(['echo held']);
    expect(connection.completions()).toEqual([{ invocationId: '1', result: 'held' }]);
  });

  it('asks a stream for its next item only once the connection can take it', async () => {
    const { dispatcher, connection, hub } = dispatcherWith();
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    await settled();
    const producer = hub.producers.get('s1')!;
    expect(producer.pulls).toBe(1);

    connection.fallBehind();
    await producer.yield(1);
    expect(connection.streamItems('s1')).toEqual([1]);
    expect(producer.pulls).toBe(1);

    await connection.catchUp();
    expect(producer.pulls).toBe(2);
    await producer.yield(2);
    expect(connection.streamItems('s1')).toEqual([1, 2]);
  });
});

describe('ConnectionDispatcher: dispose', () => {
  it('stops streams, fails uploads, drops queued work, cancels client results and sends nothing more', async () => {
    const { dispatcher, connection, hub } = dispatcherWith({ maximumParallelInvocationsPerClient: 2 });
    dispatcher.dispatch(streamCall('s1', 'ticks'));
    dispatcher.dispatch(call('u', 'collect', [], ['up1']));
    dispatcher.dispatch(call('1', 'hold', ['running']));
    dispatcher.dispatch(call('2', 'echo', ['queued']));
    await settled();
    let clientResultError: unknown;
    connection.clientResults.begin('Question').result.catch((error: unknown) => (clientResultError = error));

    dispatcher.dispose();
    await hub.finish('running');
    dispatcher.dispatch(call('3', 'echo', ['after']));
    await settled();

    expect(hub.producers.get('s1')!.returned).toBe(true);
    expect(hub.uploadFailures).toMatchObject([{ message: 'The connection closed.' }]);
    expect(clientResultError).toMatchObject({ code: SignalRErrorCode.ConnectionClosed });
    expect(hub.started).toEqual(['running']);
    expect(connection.sent).toEqual([]);
  });
});
