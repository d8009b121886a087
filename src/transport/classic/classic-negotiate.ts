import type { ResolvedClassicEndpointOptions } from '../../options/classic-endpoint-options.js';
import { CLASSIC_PROTOCOL_VERSION } from '../../protocol/classic/classic-messages.js';

const seconds = (ms: number) => ms / 1000;

/**
 * Classic SignalR's negotiate answer. `Url` is where the client sends everything after
 * negotiate; the timeouts are in seconds, the keep-alive timeout twice the keep-alive interval.
 */
export function classicNegotiateResponse(
  path: string,
  token: { connectionId: string; connectionToken: string },
  options: ResolvedClassicEndpointOptions,
  negotiateTokenLifetimeMs: number,
): string {
  // The client gives up on a transport after this long and tries the next with the same token, which must still open a connection.
  const transportConnectTimeoutMs = Math.min(options.transportConnectTimeoutMs, negotiateTokenLifetimeMs);
  return JSON.stringify({
    Url: path,
    ConnectionToken: token.connectionToken,
    ConnectionId: token.connectionId,
    KeepAliveTimeout: seconds(options.keepAliveMs * 2),
    DisconnectTimeout: seconds(options.disconnectTimeoutMs),
    ConnectionTimeout: seconds(options.connectionTimeoutMs),
    TryWebSockets: options.transports.includes('webSockets'),
    ProtocolVersion: CLASSIC_PROTOCOL_VERSION,
    TransportConnectTimeout: seconds(transportConnectTimeoutMs),
    LongPollDelay: 0,
  });
}
