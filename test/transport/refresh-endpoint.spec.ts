import { describe, expect, it } from 'vitest';
import { AuthenticationRefresh } from '../../src/connection/authentication-refresh.js';
import type { HubConnections } from '../../src/connection/hub-connections.js';
import type { ConnectionRelay, RelayedAnswer, RelayedExchange } from '../../src/lifetime/connection-relay.js';
import { RefreshEndpoint, type RefreshEndpointParts } from '../../src/transport/refresh-endpoint.js';

// The holding node's side of a relayed refresh: the credential another node admitted arrives as
// JSON, and only what that node writes is read as a credential.
const endpoint = new RefreshEndpoint({
  path: '/hubs/refresh',
  // No connection is held here: a credential read whole reaches the decision, which answers 404.
  connections: { get: () => undefined } as unknown as HubConnections,
  refresh: new AuthenticationRefresh({
    hubPath: '/hubs/refresh',
    maximumRefreshesPerMinute: 10,
    policy: undefined,
    identifierOf: () => undefined,
    authorizeHub: async () => 'allowed',
    refreshed: async () => {},
  }),
} as unknown as RefreshEndpointParts);

function exchangeOf(verb: string, body: string | undefined, answer: (answer: RelayedAnswer | undefined) => void): RelayedExchange {
  return { request: { verb, body: body === undefined ? undefined : Buffer.from(body) }, answer, onCancel: () => {} } as RelayedExchange;
}

function relay(body: string | undefined): Promise<RelayedAnswer | undefined> {
  return new Promise((resolve) => endpoint.runRelayed('c1', exchangeOf('refresh', body, resolve)));
}

describe('RefreshEndpoint, relayed', () => {
  it('decides on a credential written as the asking node writes it', async () => {
    for (const body of ['{"user":{"sub":"a"},"expiresAt":1700000000000}', '{"user":null,"expiresAt":null}']) {
      const answer = await relay(body);
      expect([answer?.status, Buffer.from(answer!.body).toString()]).toEqual([404, '{"error":"connection_not_found"}']);
    }
  });

  it.each([
    ['no body', undefined],
    ['text that is not JSON', 'refresh'],
    ['JSON null', 'null'],
    ['JSON that is no object', '5'],
    ['JSON text', '"refresh"'],
    ['an expiry that is no number', '{"user":{"sub":"a"},"expiresAt":"soon"}'],
  ])('reads %s as no refresh', async (_, body) => {
    expect(await relay(body)).toBeUndefined();
  });

  it('takes only refreshes among the requests relayed for a WebSocket connection', async () => {
    let handler: ((exchange: RelayedExchange) => void) | undefined;
    const relayOfNode = { serve: async (_: string, serving: typeof handler) => ((handler = serving), () => {}) } as unknown as ConnectionRelay;
    await endpoint.holdForRelay(relayOfNode, 'c1');
    const poll = await new Promise((resolve) => handler!(exchangeOf('poll', '{"user":null,"expiresAt":null}', resolve)));
    expect(poll).toBeUndefined();
    const refresh = await new Promise<RelayedAnswer | undefined>((resolve) => handler!(exchangeOf('refresh', '{"user":null,"expiresAt":null}', resolve)));
    expect(refresh?.status).toBe(404);
  });
});
