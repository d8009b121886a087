import { MAX_INVOCATION_ID_LENGTH } from '../message-fields.js';
import { ProtocolError } from '../protocol-error.js';
import { parseJsonSafely } from '../safe-json.js';

/**
 * The protocol version a classic SignalR 2.x server answers the 2.4.3 jQuery client with: it
 * asks for 2.1 and the server clamps to 2.0 ("delayed start": `/start` runs onConnected).
 */
export const CLASSIC_PROTOCOL_VERSION = '2.0';

/** Classic SignalR's limit on the JSON of a hub proxy's state (`HubRequestParser`). */
export const MAX_CLASSIC_STATE_LENGTH = 4096;

/** A keep-alive on a WebSocket or an event stream: no cursor, no messages, only a sign of life. */
export const CLASSIC_KEEP_ALIVE = '{}';

/** One hub method call of the jQuery client: `{"H":"chathub","M":"Send","A":[...],"I":0,"S":{...}}`. */
export interface ClassicHubInvocation {
  /** As the client sent it: lower-cased by `createHubProxy`, matched case-insensitively. */
  readonly hub: string;
  readonly method: string;
  readonly arguments: readonly unknown[];
  readonly invocationId: string;
  /** The proxy's state, as JSON text; undefined when the proxy has none. */
  readonly state: string | undefined;
}

/** Reads a client's hub invocation (a WebSocket frame, or the `data` field of `/send`). */
export function parseHubInvocation(text: string, maxDepth: number): ClassicHubInvocation {
  const value = parseJsonSafely(text, maxDepth);
  if (!isObject(value)) throw new ProtocolError('A hub invocation must be a JSON object.');
  const { H: hub, M: method, A: args = [], I: id, S: state } = value;
  if (typeof hub !== 'string' || hub === '') throw new ProtocolError("A hub invocation needs the hub's name in 'H'.");
  if (typeof method !== 'string' || method === '') throw new ProtocolError("A hub invocation needs the method's name in 'M'.");
  if (!Array.isArray(args)) throw new ProtocolError("A hub invocation's arguments 'A' must be an array.");
  if (!Number.isSafeInteger(id) && typeof id !== 'string') throw new ProtocolError("A hub invocation needs its id in 'I'.");
  const invocationId = String(id);
  if (invocationId.length > MAX_INVOCATION_ID_LENGTH) throw new ProtocolError('A hub invocation id is too long.');
  if (state !== undefined && !isObject(state)) throw new ProtocolError("A hub invocation's state 'S' must be an object.");
  // Stryker disable next-line ConditionalExpression: JSON.stringify(undefined) is undefined too; the check keeps the type true.
  return { hub, method, arguments: args, invocationId, state: state === undefined ? undefined : JSON.stringify(state) };
}

/**
 * The hubs a connection subscribes to, from the `connectionData` query parameter
 * (`[{"name":"chathub"}]`), lower-cased. A name given twice is refused, as classic SignalR did.
 */
export function parseConnectionData(text: string | null, maxDepth: number): string[] {
  if (text === null || text === '') return [];
  const value = parseJsonSafely(text, maxDepth);
  if (!Array.isArray(value)) throw new ProtocolError('connectionData must be a JSON array.');
  const names = value.map((entry: unknown) => {
    const name = isObject(entry) ? entry.name ?? entry.Name : undefined;
    if (typeof name !== 'string' || name === '') throw new ProtocolError('Each hub in connectionData needs a name.');
    return name.toLowerCase();
  });
  if (new Set(names).size !== names.length) throw new ProtocolError('Duplicate Hub names found.');
  return names;
}

/** What one persistent response carries to the client on its receive channel. */
export interface PersistentResponse {
  /** The cursor the client echoes as `messageId` on its next poll or reconnect. */
  readonly cursor: string;
  /** The first response of a connection (`S:1`): the client then sends `/start`. */
  readonly initialized?: boolean;
  /** The server goes away: the client reconnects at once (`T:1`). */
  readonly shouldReconnect?: boolean;
  readonly groupsToken?: string;
  /** The connection is over: the client stops with this error and does not reconnect (`E`). */
  readonly error?: string;
  /** Each already serialized as JSON. */
  readonly messages: readonly string[];
}

export function writePersistentResponse(response: PersistentResponse): string {
  let json = `{"C":${JSON.stringify(response.cursor)}`;
  if (response.initialized) json += ',"S":1';
  if (response.shouldReconnect) json += ',"T":1';
  if (response.groupsToken !== undefined) json += `,"G":${JSON.stringify(response.groupsToken)}`;
  if (response.error !== undefined) json += `,"E":${JSON.stringify(response.error)}`;
  return `${json},"M":[${response.messages.join(',')}]}`;
}

/** A call of a client method: the client lower-cases `H` and `M` to find its handler. */
export function writeClientInvocation(hub: string, method: string, args: readonly unknown[]): string {
  return JSON.stringify({ H: hub, M: method, A: args });
}

/**
 * The answer to one invocation: `R` on success; `E` (with `H` and `D` for a HubException) on
 * failure; `S` the caller's hub state that changed, on either.
 */
export type ClassicHubResult = (
  | { readonly invocationId: string; readonly result: unknown }
  | { readonly invocationId: string; readonly error: string; readonly hubException: boolean; readonly errorData?: unknown }
) & { readonly stateChanges?: Readonly<Record<string, unknown>> };

export function writeHubResult(answer: ClassicHubResult): string {
  const { invocationId, stateChanges: S } = answer;
  if ('result' in answer) return JSON.stringify({ I: invocationId, R: answer.result ?? null, S });
  const { error, hubException, errorData } = answer;
  return JSON.stringify(hubException ? { I: invocationId, E: error, H: true, D: errorData, S } : { I: invocationId, E: error, S });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
