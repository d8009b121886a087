import type { IncomingMessage } from 'node:http';
import { classicErrors } from '../../errors/classic-errors.js';
import { CLASSIC_TRANSPORTS, type ClassicTransportName } from '../../options/classic-endpoint-options.js';
import type { TransportName } from '../../options/hub-options.js';
import { parseConnectionData } from '../../protocol/classic/classic-messages.js';
import { ProtocolError } from '../../protocol/protocol-error.js';
import type { ConnectionTokens } from '../../security/connection-tokens.js';
import { refusal, type Admitted, type Refusal } from '../../security/hub-gatekeeper.js';
import type { ClassicHub, ClassicHubs } from './classic-hub.js';

/** connectionData is a short list of names: anything deep is not one. */
const CONNECTION_DATA_DEPTH = 3;

/** The modern name of each classic transport, which hubs see in their connection's request. */
export const MODERN_TRANSPORT: Readonly<Record<ClassicTransportName, TransportName>> = {
  webSockets: 'WebSockets',
  serverSentEvents: 'ServerSentEvents',
  longPolling: 'LongPolling',
};

/** The hubs a request names in connectionData, each known; or why not (400). */
export function hubsOf(query: URLSearchParams, hubs: ClassicHubs): ClassicHub[] | Refusal {
  let names: string[];
  try {
    names = parseConnectionData(query.get('connectionData'), CONNECTION_DATA_DEPTH);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return refusal(400, classicErrors.badConnectionData(error.message));
  }
  if (names.length === 0) return refusal(400, classicErrors.noHubs);
  const found: ClassicHub[] = [];
  for (const name of names) {
    const hub = hubs.find(name);
    if (!hub) return refusal(400, classicErrors.unknownHub(name));
    found.push(hub);
  }
  return found;
}

/**
 * Admits a request into every hub it names, each with its own checks (Host, Origin,
 * authentication, the hub's `@Authorize`): a connection reaches no hub its user may not connect to.
 */
export async function admitToAll(request: IncomingMessage, hubs: readonly ClassicHub[]): Promise<Admitted | Refusal> {
  let admitted: Admitted | undefined;
  for (const hub of hubs) {
    const admission = await hub.gatekeeper.admit(request);
    if (!admission.admitted) return admission;
    admitted ??= admission;
  }
  return admitted!;
}

/** The transport a request names, if the endpoint offers it. */
export function transportOf(query: URLSearchParams, offered: readonly ClassicTransportName[]): ClassicTransportName | undefined {
  const name = query.get('transport')?.toLowerCase();
  const transport = CLASSIC_TRANSPORTS.find((known) => known.toLowerCase() === name);
  return transport !== undefined && offered.includes(transport) ? transport : undefined;
}

/** What a checked connection token names. */
export interface ClassicClaims {
  readonly connectionId: string;
  readonly issuedAt: number;
}

/**
 * Checks the connection token of a request after negotiate, in classic SignalR's order and
 * words: missing (400), not ours or not for this endpoint (400), of another user (403).
 */
export function claimClassicToken(
  query: URLSearchParams,
  tokens: ConnectionTokens,
  endpointPath: string,
  userKey: string | undefined,
): ClassicClaims | Refusal {
  const token = query.get('connectionToken');
  if (!token) return refusal(400, classicErrors.missingConnectionToken);
  const claims = tokens.open(token);
  if (!claims || claims.hubPath !== endpointPath) return refusal(400, classicErrors.badConnectionToken);
  if (claims.userKey !== userKey) return refusal(403, classicErrors.identityChanged);
  return { connectionId: claims.connectionId, issuedAt: claims.issuedAt };
}

/** A `messageId` cursor as the client echoes it; undefined when absent or not ours. */
export function cursorOf(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}
