import { Transform, Type } from 'class-transformer';
import { IsArray, IsDate, IsInstance, IsInt, IsString } from 'class-validator';
import {
  Authorize,
  Caller,
  Clients,
  Hub,
  HubContext,
  HubMethod,
  HubRequest,
  InjectHubContext,
  UploadStream,
  type ConnectionRequest,
  type HubCallerClients,
  type HubCallerContext,
} from 'nestjs-signalr';
import { EMPTY, Observable, of } from 'rxjs';

// The hubs of ASP.NET Core's TypeScript client functional tests (FunctionalTests/TestHub.cs and
// AuthorizedHub.cs), method for method, so that their specs run unchanged in meaning. Where theirs
// read `Context.GetHttpContext()`, these read `@HubRequest()`.

/** Their hub throws .NET's InvalidOperationException; with detailed errors the client sees its name. */
export class InvalidOperationException extends Error {
  override readonly name = 'InvalidOperationException';
}

interface CustomObject {
  readonly Name: string;
  readonly Value: number;
}

/**
 * Their `ComplexObject`, bound as a typed parameter as ASP.NET Core binds it: bytes and the date
 * become a Buffer and a Date whichever way the protocol carried them (over JSON: base64 and ISO
 * text), so what goes back is written as ASP.NET writes them. Property names keep their casing,
 * as their server is configured to.
 */
export class ComplexObject {
  @IsString()
  String!: string;

  @IsArray()
  @IsInt({ each: true })
  IntArray!: number[];

  // From the plain value: class-transformer would turn text into its UTF-8 bytes, and empty a Uint8Array.
  @Transform(({ obj }: { obj: { ByteArray: unknown } }) => bytesOf(obj.ByteArray))
  @IsInstance(Buffer)
  ByteArray!: Buffer;

  @IsString()
  Guid!: string;

  @Type(() => Date)
  @IsDate()
  DateTime!: Date;
}

function bytesOf(value: unknown): unknown {
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return value instanceof Uint8Array ? Buffer.from(value) : value;
}

@Hub('/testhub')
export class TestHub {
  constructor(@InjectHubContext(TestHub) private readonly hub: HubContext) {}

  echo(message: string): string {
    return message;
  }

  getCallerConnectionId(@Caller() caller: HubCallerContext): string {
    return caller.connectionId;
  }

  getActiveTransportName(@HubRequest() request: ConnectionRequest): string {
    return request.transport;
  }

  throwException(message: string): never {
    throw new InvalidOperationException(message);
  }

  async invokeWithString(message: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.caller.send('Message', message);
  }

  async sendCustomObject(customObject: CustomObject, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.caller.send('CustomObject', customObject);
  }

  @HubMethod({ stream: true })
  stream(): Observable<string> {
    return of('a', 'b', 'c');
  }

  /** Never ends by itself; tells its caller, through the hub's context as theirs does, once canceled. */
  @HubMethod({ stream: true })
  infiniteStream(@Caller() caller: HubCallerContext): Observable<string> {
    return new Observable<string>(() => () => void this.hub.clients.client(caller.connectionId).send('StreamCanceled'));
  }

  async streamingConcat(@UploadStream() stream: AsyncIterable<string>): Promise<string> {
    let text = '';
    for await (const item of stream) text += item;
    return text;
  }

  @HubMethod({ stream: true })
  emptyStream(): Observable<number> {
    return EMPTY;
  }

  @HubMethod({ stream: true })
  streamThrowException(message: string): Observable<string> {
    throw new InvalidOperationException(message);
  }

  /** Null for a header the request did not have, as theirs answers. */
  getHeader(name: string, @HubRequest() request: ConnectionRequest): string | null {
    return request.headers[name.toLowerCase()] ?? null;
  }

  getCookie(name: string, @HubRequest() request: ConnectionRequest): string | null {
    return request.cookies[name] ?? null;
  }

  getContentTypeHeader(@HubRequest() request: ConnectionRequest): string | null {
    return request.headers['content-type'] ?? null;
  }

  /** How many negotiate redirects led here: the redirect endpoint writes the count into the hub's URL. */
  getNumRedirects(@HubRequest() request: ConnectionRequest): number {
    return Number(request.query.numRedirects);
  }

  @HubMethod()
  echoComplexObject(complexObject: ComplexObject): ComplexObject {
    return complexObject;
  }

  sendComplexObject(): ComplexObject {
    return {
      ByteArray: Buffer.from([0x1, 0x2, 0x3]),
      DateTime: new Date(Date.UTC(2000, 0, 1)),
      Guid: '00010203-0405-0607-0706-050403020100',
      IntArray: [1, 2, 3],
      String: 'hello world',
    };
  }
}

/** Their `/testhub-nowebsockets`: the same hub, offering only Server-Sent Events and long polling. */
@Hub('/testhub-nowebsockets', { transports: ['ServerSentEvents', 'LongPolling'] })
export class TestHubWithoutWebSockets extends TestHub {}

@Hub('/authorizedhub')
@Authorize()
export class HubWithAuthorization {
  echo(message: string): string {
    return message;
  }
}
