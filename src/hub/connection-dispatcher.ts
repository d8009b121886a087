import { HubException } from '../errors/hub-exception.js';
import { invocationErrors } from '../errors/invocation-errors.js';
import {
  MessageType,
  type CompletionMessage,
  type HubMessage,
  type InvocationMessage,
  type StreamInvocationMessage,
} from '../protocol/hub-message.js';
import type { ResolvedHubOptions } from '../options/hub-options.js';
import type { HubConnectionContext } from './hub-connection-context.js';
import type { HubInvocationContext } from './hub-invocation-context.js';
import type { HubMethod, HubMethods } from './hub-methods.js';
import { ArgumentBindingError } from '../errors/argument-binding.error.js';
import { bindingError } from './argument-binding.js';
import { isStreamResult } from './hub-method-explorer.js';
import { InvocationQueue } from './invocation-queue.js';
import { observableToAsyncIterable } from './observable-iterable.js';
import { ServerStreams, type ServerStream } from './server-streams.js';
import { UploadStream } from './upload-stream.js';

type Call = InvocationMessage | StreamInvocationMessage;

/** Why a call is answered before any hub code runs: its arguments, or anything else about it. */
interface Refusal {
  readonly text: string;
  readonly outcome: 'refused' | 'validation';
}

const refused = (text: string): Refusal => ({ text, outcome: 'refused' });

// Most calls carry no streams: shared empties keep them from allocating any per invocation.
const NO_STREAM_IDS: readonly string[] = Object.freeze([]);
const NO_UPLOADS: ReadonlyMap<number, UploadStream> = new Map();
const noUploadStream = (): undefined => undefined;

/**
 * Everything one connection has in flight: queued and running invocations, server streams it
 * may cancel, upload streams it feeds. A failure here answers one invocation; only a client
 * that breaks the protocol's rules loses its connection.
 */
export class ConnectionDispatcher {
  /** Made with the first invocation: an idle connection holds no queue. */
  private queue: InvocationQueue | undefined;
  private readonly serverStreams = new ServerStreams();
  // Both made when first needed: an idle connection holds no empty collections.
  private uploadStreams: Map<string, UploadStream> | undefined;
  private pendingInvocationIds: Set<string> | undefined;
  private pausedUploads = 0;
  /** Too many invocations wait: the connection stopped reading from the client. */
  private backlogHeld = false;
  private disposed = false;

  constructor(
    private readonly hub: HubMethods,
    private readonly connection: HubConnectionContext,
    private readonly options: ResolvedHubOptions,
  ) {}

  /** Server streams from their acceptance (not only once running) plus open upload streams. */
  private get openStreams(): number {
    return this.serverStreams.count + (this.uploadStreams?.size ?? 0);
  }

  dispatch(message: HubMessage): void {
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        return this.onCall(message);
      case MessageType.StreamItem:
        this.uploadStreams?.get(message.invocationId)?.push(message.item);
        return;
      case MessageType.Completion:
        return this.onCompletion(message);
      case MessageType.CancelInvocation:
        return this.serverStreams.cancel(message.invocationId);
      default:
        // Ping, Ack and Sequence carry nothing for the dispatcher; Close is the connection's.
        return;
    }
  }

  /** Stops every stream and drops queued work; the connection is gone. */
  dispose(): void {
    this.disposed = true;
    this.queue?.dispose();
    this.serverStreams.closeAll();
    for (const stream of this.uploadStreams?.values() ?? []) stream.fail(new Error('The connection closed.'));
    this.uploadStreams?.clear();
    this.connection.clientResults.cancelAll();
  }

  private onCall(call: Call): void {
    const { invocationId, target } = call;
    const method = this.hub.findMethod(target);
    const isStreamCall = call.type === MessageType.StreamInvocation;
    const refusal = this.refusalFor(call, method, isStreamCall);
    if (refusal !== undefined) {
      this.hub.invocationRefusals?.refused(method?.descriptor.wireName, refusal.outcome);
      if (invocationId !== undefined) this.complete(invocationId, refusal.text);
      return;
    }
    let serverStream: ServerStream | undefined;
    if (isStreamCall) serverStream = this.serverStreams.open(invocationId!);
    else if (invocationId !== undefined) (this.pendingInvocationIds ??= new Set()).add(invocationId);
    const uploads = this.openUploadStreams(call, method!);
    const queue = (this.queue ??= new InvocationQueue(this.options.maximumParallelInvocationsPerClient, () => this.onQueuedInvocationStarted()));
    queue.enqueue(() => this.run(call, method!, uploads, serverStream));
    // As ASP.NET Core does at its parallel limit: the client is not read until its work drains.
    // What one frame already held is queued (a frame is bounded), nothing more is read.
    if (!this.backlogHeld && queue.waitingCount > this.options.maximumQueuedInvocationsPerClient) {
      this.backlogHeld = true;
      this.connection.invocationBacklogFull();
    }
  }

  private onQueuedInvocationStarted(): void {
    if (!this.backlogHeld || this.queue!.waitingCount > this.options.maximumQueuedInvocationsPerClient) return;
    this.backlogHeld = false;
    this.connection.invocationBacklogEased();
  }

  private refusalFor(call: Call, method: HubMethod | undefined, isStreamCall: boolean): Refusal | undefined {
    const { target, invocationId } = call;
    if (!method) return refused(invocationErrors.methodNotFound(target));
    const { descriptor } = method;
    if (descriptor.streaming && !isStreamCall) return refused(invocationErrors.streamingMethodCalledAsNonStreaming(target));
    if (!descriptor.streaming && isStreamCall) return refused(invocationErrors.nonStreamingMethodCalledAsStreaming(target));
    if (invocationId !== undefined && (this.pendingInvocationIds?.has(invocationId) || this.serverStreams.has(invocationId))) {
      return refused(invocationErrors.invocationIdInUse(invocationId));
    }
    const streamIds = call.streamIds ?? NO_STREAM_IDS;
    const unbound = bindingError(descriptor, call.arguments, streamIds) ?? (streamIds.length > 0 ? this.streamIdsReused(streamIds) : undefined);
    if (unbound) return { text: this.errorText(call, unbound), outcome: 'validation' };
    const streamLimit = this.options.maximumConcurrentStreamsPerClient;
    return this.openStreams + streamsOpenedBy(call) > streamLimit ? refused(invocationErrors.tooManyStreams(target, streamLimit)) : undefined;
  }

  private streamIdsReused(streamIds: readonly string[]): ArgumentBindingError | undefined {
    const reused = streamIds.some((id) => this.uploadStreams?.has(id)) || new Set(streamIds).size !== streamIds.length;
    return reused ? new ArgumentBindingError('Stream ids are reused.') : undefined;
  }

  /** Opened before the call waits in the queue, so items that arrive meanwhile are kept. */
  private openUploadStreams(call: Call, method: HubMethod): ReadonlyMap<number, UploadStream> {
    if (method.descriptor.uploadStreams.length === 0) return NO_UPLOADS;
    const byParameter = new Map<number, UploadStream>();
    method.descriptor.uploadStreams.forEach((parameter, position) => {
      const stream = new UploadStream(
        this.options.streamBufferCapacity,
        () => this.onUploadFull(),
        () => this.onUploadDrained(),
      );
      (this.uploadStreams ??= new Map()).set(call.streamIds![position], stream);
      byParameter.set(parameter.index, stream);
    });
    return byParameter;
  }

  /** `serverStream` is the call's, for a streaming call. */
  private async run(call: Call, method: HubMethod, uploads: ReadonlyMap<number, UploadStream>, serverStream: ServerStream | undefined): Promise<void> {
    const { invocationId, target } = call;
    const context: HubInvocationContext = {
      target,
      arguments: call.arguments,
      invocationId,
      headers: call.headers,
      clients: this.connection.clients,
      groups: this.connection.groups,
      classicState: invocationId === undefined ? undefined : this.connection.classicCalls?.stateOf(invocationId),
      uploadStreamFor:
        uploads === NO_UPLOADS
          ? noUploadStream
          : (index) => {
              const stream = uploads.get(index);
              const asObservable = method.descriptor.uploadStreams.find((p) => p.index === index)?.asObservable;
              return asObservable ? stream?.toObservable() : stream;
            },
    };
    try {
      // A client that is behind gets no new results until it catches up: its invocations wait.
      const behind = this.connection.whenWritable();
      if (behind) await behind;
      if (this.disposed) return;
      // A stream canceled before this point still gets its method run, as ASP.NET Core runs it with
      // a canceled token: what the method set up is then ended through its stream.
      const result = await method.invoke(this.connection.caller, context);
      if (serverStream) {
        // The stream runs outside the invocation slot, as in ASP.NET Core; uploads it reads stay open.
        void this.streamToClient(invocationId!, target, result, serverStream).finally(() => {
          this.serverStreams.end(invocationId!, serverStream);
          this.closeUploads(call);
        });
        return;
      }
      if (invocationId !== undefined) {
        this.send({ type: MessageType.Completion, invocationId, result: result ?? null, hasResult: true });
      }
    } catch (error) {
      // A canceled stream's client no longer listens for its end.
      if (!serverStream || this.serverStreams.end(invocationId!, serverStream)) this.fail(invocationId, target, error);
    } finally {
      if (invocationId !== undefined) this.pendingInvocationIds?.delete(invocationId);
    }
    this.closeUploads(call);
  }

  /** Items the method never read are dropped; later items for these ids are ignored. */
  private closeUploads(call: Call): void {
    for (const streamId of call.streamIds ?? NO_STREAM_IDS) this.endUpload(streamId)?.complete();
  }

  /** Forgets an upload stream and frees its place among the open streams; undefined if it had ended. */
  private endUpload(streamId: string): UploadStream | undefined {
    const upload = this.uploadStreams?.get(streamId);
    this.uploadStreams?.delete(streamId);
    return upload;
  }

  private async streamToClient(invocationId: string, target: string, result: unknown, stream: ServerStream): Promise<void> {
    if (!isStreamResult(result)) {
      const error = new TypeError(`Streaming method '${target}' returned something that is not a stream.`);
      if (this.serverStreams.end(invocationId, stream)) this.fail(invocationId, target, error);
      return;
    }
    const iterable = Symbol.asyncIterator in result ? result : observableToAsyncIterable(result, this.options.maximumQueuedObservableItems);
    const iterator = iterable[Symbol.asyncIterator]();
    if (!this.serverStreams.isRunning(invocationId, stream)) {
      // Canceled, or the connection closed, while the method ran: ended unread (an Observable unsubscribed).
      void iterator.return?.();
      return;
    }
    stream.iterator = iterator;
    try {
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
        if (!this.serverStreams.isRunning(invocationId, stream)) return;
        this.send({ type: MessageType.StreamItem, invocationId, item: step.value });
        // The producer is asked for its next item only once the client has room for it.
        const behind = this.connection.whenWritable();
        if (behind) await behind;
        if (!this.serverStreams.isRunning(invocationId, stream)) return;
      }
      if (this.serverStreams.end(invocationId, stream)) this.send({ type: MessageType.Completion, invocationId });
    } catch (error) {
      if (this.serverStreams.end(invocationId, stream)) this.fail(invocationId, target, error);
    }
  }

  private onCompletion(message: CompletionMessage): void {
    const upload = this.endUpload(message.invocationId);
    if (upload) {
      // As ASP.NET Core does: the method reading the stream sees the client's text as a HubException.
      if (message.error !== undefined) upload.fail(new HubException(message.error));
      else upload.complete();
      return;
    }
    this.connection.clientResults.complete(message);
  }

  private fail(invocationId: string | undefined, target: string, error: unknown): void {
    const text = this.errorText({ invocationId, target }, error);
    if (invocationId === undefined) return;
    this.connection.classicCalls?.failed(invocationId, error);
    this.complete(invocationId, text);
  }

  private errorText({ invocationId, target }: { invocationId?: string; target: string }, error: unknown): string {
    const { caller } = this.connection;
    return this.hub.exceptionFilter.catch(error, {
      hubPath: caller.hubPath,
      target,
      connectionId: caller.connectionId,
      invocationId,
    });
  }

  private complete(invocationId: string, error: string): void {
    this.send({ type: MessageType.Completion, invocationId, error });
  }

  private send(message: HubMessage): void {
    if (!this.disposed) this.connection.send(message);
  }

  private onUploadFull(): void {
    if (this.pausedUploads++ === 0) this.connection.pauseReading();
  }

  private onUploadDrained(): void {
    if (--this.pausedUploads === 0) this.connection.resumeReading();
  }
}

/** A streaming call opens its server stream; any call opens one stream per upload it carries. */
function streamsOpenedBy(call: Call): number {
  return (call.type === MessageType.StreamInvocation ? 1 : 0) + (call.streamIds?.length ?? 0);
}
