import { HUB_TRANSPORTS, type TransportName } from '../options/hub-options.js';

/** What each transport carries: Server-Sent Events are text only, so MessagePack clients skip them. */
const TRANSFER_FORMATS: Readonly<Record<TransportName, readonly string[]>> = {
  WebSockets: ['Text', 'Binary'],
  ServerSentEvents: ['Text'],
  LongPolling: ['Text', 'Binary'],
};

/**
 * The body of a successful negotiate (version 1 of the negotiate protocol at most). The hub's
 * transports are listed in ASP.NET Core's order, which is the client's order of preference;
 * `tokenLifetimeSeconds` (whole seconds the credential has left) where authentication refresh is on.
 */
export function negotiateResponse(
  requestedVersion: number,
  connection: { connectionId: string; connectionToken: string },
  useStatefulReconnect: boolean,
  transports: readonly TransportName[],
  tokenLifetimeSeconds?: number,
): string {
  const negotiateVersion = Math.min(requestedVersion, 1);
  // Version 0 clients have no separate token: the id they are given is what they present.
  const ids =
    negotiateVersion >= 1
      ? { connectionId: connection.connectionId, connectionToken: connection.connectionToken }
      : { connectionId: connection.connectionToken };
  // The flag appears only when granted: the client treats its presence as the server's consent.
  const stateful = useStatefulReconnect ? { useStatefulReconnect: true } : {};
  // A JSON integer, as the .NET client insists: it fails negotiate on anything else.
  const lifetime = tokenLifetimeSeconds === undefined ? {} : { tokenLifetimeSeconds };
  return JSON.stringify({ negotiateVersion, ...ids, availableTransports: offeredTransports(transports), ...stateful, ...lifetime });
}

/** A hub's transports as negotiate lists them: in ASP.NET Core's order, with what each carries. */
export function offeredTransports(transports: readonly TransportName[]): { transport: TransportName; transferFormats: readonly string[] }[] {
  return HUB_TRANSPORTS.filter((transport) => transports.includes(transport)).map((transport) => ({
    transport,
    transferFormats: TRANSFER_FORMATS[transport],
  }));
}
