/** The transports a hub offers, as negotiate lists them. */
export const AVAILABLE_TRANSPORTS = [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }] as const;

/** The body of a successful negotiate (version 1 of the negotiate protocol at most). */
export function negotiateResponse(
  requestedVersion: number,
  connection: { connectionId: string; connectionToken: string },
  useStatefulReconnect: boolean,
): string {
  const negotiateVersion = Math.min(requestedVersion, 1);
  // Version 0 clients have no separate token: the id they are given is what they present.
  const ids =
    negotiateVersion >= 1
      ? { connectionId: connection.connectionId, connectionToken: connection.connectionToken }
      : { connectionId: connection.connectionToken };
  // The flag appears only when granted: the client treats its presence as the server's consent.
  const stateful = useStatefulReconnect ? { useStatefulReconnect: true } : {};
  return JSON.stringify({ negotiateVersion, ...ids, availableTransports: AVAILABLE_TRANSPORTS, ...stateful });
}
