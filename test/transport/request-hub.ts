import { Injectable } from '@nestjs/common';
import { Authorize, Caller, Hub, HubRequest, type ConnectionRequest, type HubCallerContext, type OnHubConnected } from 'nestjs-signalr';

/** The request each connection's `onConnected` saw, by connection id. */
@Injectable()
export class RequestsAtConnect {
  readonly byConnection = new Map<string, ConnectionRequest>();
}

const frozenThrough = (request: ConnectionRequest): boolean =>
  [request, request.headers, request.cookies, request.query, ...Object.values(request.query)].every(
    (part) => typeof part === 'string' || Object.isFrozen(part),
  );

/** Shows a hub's view of its connection's request, through each way a hub can reach it. */
@Hub('/hubs/request')
export class RequestHub implements OnHubConnected {
  constructor(private readonly atConnect: RequestsAtConnect) {}

  onConnected(caller: HubCallerContext): void {
    this.atConnect.byConnection.set(caller.connectionId, caller.request);
  }

  /** Called directly: a method with only the library's parameter decorators skips Nest's pipeline. */
  request(@HubRequest() request: ConnectionRequest): ConnectionRequest {
    return request;
  }

  /** `@Authorize` puts the method behind Nest's pipeline, where the decorator's factory runs. */
  @Authorize()
  signedInRequest(@HubRequest() request: ConnectionRequest): ConnectionRequest {
    return request;
  }

  callerRequest(@Caller() caller: HubCallerContext): ConnectionRequest {
    return caller.request;
  }

  /** Whether the request is the one object the connection was opened with, frozen all through. */
  sameAsAtConnect(@Caller() caller: HubCallerContext, @HubRequest() request: ConnectionRequest): boolean {
    return request === caller.request && request === this.atConnect.byConnection.get(caller.connectionId) && frozenThrough(request);
  }

  /** Whether the request is a frozen one other than the one `onConnected` saw. */
  replacedSinceConnect(@Caller() caller: HubCallerContext): boolean {
    return caller.request !== this.atConnect.byConnection.get(caller.connectionId) && frozenThrough(caller.request);
  }
}
