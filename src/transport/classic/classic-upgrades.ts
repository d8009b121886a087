import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { classicErrors } from '../../errors/classic-errors.js';
import type { ResolvedClassicEndpointOptions } from '../../options/classic-endpoint-options.js';
import type { ConnectionTokens } from '../../security/connection-tokens.js';
import type { HubGatekeeper, Refusal } from '../../security/hub-gatekeeper.js';
import { refuseUpgrade } from '../http-replies.js';
import type { ClassicConnection } from './classic-connection.js';
import type { ClassicConnections } from './classic-connections.js';
import type { ClassicHubs } from './classic-hub.js';
import type { ClassicInvocations } from './classic-invocations.js';
import { WebSocketReceiver } from './classic-receivers.js';
import { ClassicReplies } from './classic-replies.js';
import { admitToAll, claimClassicToken, cursorOf, hubsOf, transportOf } from './classic-request.js';

export interface ClassicUpgradesParts {
  readonly options: ResolvedClassicEndpointOptions;
  readonly hubs: ClassicHubs;
  readonly connectionTokens: ConnectionTokens;
  readonly gatekeeper: HubGatekeeper;
  readonly connections: ClassicConnections;
  readonly invocations: ClassicInvocations;
}

/**
 * The classic endpoint's WebSockets: an upgrade at `/connect` opens a connection, one at
 * `/reconnect` reattaches to it (or resumes it here with its groups token); the same checks as
 * every other request run before the socket exists. Each frame is one hub invocation, read one
 * at a time.
 */
export class ClassicUpgrades {
  private readonly webSockets: WebSocketServer;

  constructor(private readonly parts: ClassicUpgradesParts) {
    const { maximumReceiveMessageSize } = parts.options;
    this.webSockets = new WebSocketServer({ noServer: true, maxPayload: maximumReceiveMessageSize, perMessageDeflate: false });
  }

  async accept(request: IncomingMessage, socket: Duplex, head: Buffer, operation: string, query: URLSearchParams): Promise<void> {
    const refuse = (status: number, body: string, why: string) => {
      this.parts.gatekeeper.refuse(request, status, body, why);
      refuseUpgrade(socket, status, body);
    };
    if (operation !== '/connect' && operation !== '/reconnect') return refuse(400, classicErrors.notWebSocketRequest, 'upgrade on another operation');
    if (ClassicReplies.asksForJsonp(query)) return refuse(403, classicErrors.jsonpDisabled, 'JSONP on an upgrade');
    const hubs = hubsOf(query, this.parts.hubs);
    if (!Array.isArray(hubs)) return refuse(hubs.status, hubs.body, 'connectionData refused');
    const admission = await admitToAll(request, hubs);
    if (!admission.admitted) return refuseUpgrade(socket, admission.status, admission.body);
    if (transportOf(query, this.parts.options.transports) !== 'webSockets') return refuse(400, classicErrors.unknownTransport, 'upgrade for another transport');
    const claims = claimClassicToken(query, this.parts.connectionTokens, this.parts.options.path, admission.userKey);
    if ('admitted' in claims) return refuse(claims.status, claims.body, 'connection token refused');
    const opening = { request, query, admission, claims, transport: 'webSockets' as const };
    const { connections } = this.parts;
    const connection: ClassicConnection | Refusal =
      operation === '/connect' ? await connections.open(opening, hubs) : await connections.reconnect(opening, hubs, query.get('groupsToken'));
    if ('admitted' in connection) return refuse(connection.status, connection.body, 'connection refused');
    this.webSockets.handleUpgrade(request, socket, head, (webSocket: WebSocket) => {
      webSocket.on('message', (data: Buffer) => {
        webSocket.pause();
        void this.parts.invocations.run(connection, data.toString('utf8')).then((outcome) => {
          if (outcome === 'unreadable') webSocket.close(1003);
          else webSocket.resume();
        });
      });
      connection.attach(new WebSocketReceiver(webSocket), cursorOf(query.get('messageId')), operation === '/connect');
    });
  }

  close(): void {
    this.webSockets.close();
  }
}
