import { describe, expect, it } from 'vitest';
import { negotiateResponse } from '../../src/transport/negotiate-response.js';

const CONNECTION = { connectionId: 'public-id', connectionToken: 'sealed-token' };
const ALL = ['LongPolling', 'ServerSentEvents', 'WebSockets'] as const;

describe('negotiateResponse', () => {
  it('answers version 1 (and any later one) with the id and the token apart, the transports in ASP.NET Core order', () => {
    const expected = {
      negotiateVersion: 1,
      connectionId: 'public-id',
      connectionToken: 'sealed-token',
      availableTransports: [
        { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
        { transport: 'ServerSentEvents', transferFormats: ['Text'] },
        { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
      ],
    };
    expect(JSON.parse(negotiateResponse(1, CONNECTION, false, ALL))).toEqual(expected);
    expect(JSON.parse(negotiateResponse(7, CONNECTION, false, ALL))).toEqual(expected);
  });

  it('gives a version 0 client the token as its id, since that is what it presents, and no token field', () => {
    expect(JSON.parse(negotiateResponse(0, CONNECTION, false, ['LongPolling']))).toEqual({
      negotiateVersion: 0,
      connectionId: 'sealed-token',
      availableTransports: [{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }],
    });
  });

  it('names stateful reconnect only when granted, and the token lifetime only when given, as a JSON integer', () => {
    const granted = JSON.parse(negotiateResponse(1, CONNECTION, true, ['WebSockets'], 0)) as Record<string, unknown>;
    expect(granted).toMatchObject({ useStatefulReconnect: true, tokenLifetimeSeconds: 0 });
    const plain = JSON.parse(negotiateResponse(1, CONNECTION, false, ['WebSockets'])) as Record<string, unknown>;
    expect(Object.keys(plain)).toEqual(['negotiateVersion', 'connectionId', 'connectionToken', 'availableTransports']);
  });
});
