import { SignalRModule } from 'nestjs-signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../functional/test-hub.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { startReferenceServer, type RunningReferenceServer } from '../support/reference-server.js';
import { JSON_HANDSHAKE, silentClientTrace, untilFirstPing } from './wire-traces.js';

// Keep-alive pings, the client timeout and the handshake timeout of the package beside ASP.NET
// Core's (test/reference/ReferenceServer), both with the same short timers so that they fire
// within a test. A row of docs/compatibility.md names each difference.

const KEEP_ALIVE_MS = 200;
const CLIENT_TIMEOUT_MS = 1_000;
const HANDSHAKE_TIMEOUT_MS = 500;

describe('timers of the package beside ASP.NET Core', () => {
  let nest: RunningHubApp;
  let reference: RunningReferenceServer;

  beforeAll(async () => {
    [nest, reference] = await Promise.all([
      startHubApp([TestHub], { keepAliveIntervalMs: KEEP_ALIVE_MS, clientTimeoutIntervalMs: CLIENT_TIMEOUT_MS, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }, {
        imports: [SignalRModule.forFeature([TestHub])],
      }),
      startReferenceServer({ timers: { KeepAliveMs: KEEP_ALIVE_MS, ClientTimeoutMs: CLIENT_TIMEOUT_MS, HandshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } }),
    ]);
  }, 240_000);

  afterAll(async () => {
    await nest?.close();
    await reference?.close();
  });

  it('keep-alive: both ping a client that sends nothing after its handshake', async () => {
    const [ours, theirs] = await Promise.all([untilFirstPing(`${nest.baseUrl}/testhub`), untilFirstPing(`${reference.baseUrl}/testhub`)]);
    expect(ours).toEqual([{}, { type: 6 }]);
    expect(theirs).toEqual([{}, { type: 6 }]);
  });

  it('handshake timeout: both close a socket that sends no handshake, without a word', async () => {
    const [ours, theirs] = await Promise.all([
      silentClientTrace(`${nest.baseUrl}/testhub`, undefined),
      silentClientTrace(`${reference.baseUrl}/testhub`, undefined),
    ]);
    expect(ours).toEqual(theirs);
  });

  it('client timeout: the package closes a silent client with a close message that allows reconnecting', async () => {
    expect(await silentClientTrace(`${nest.baseUrl}/testhub`, JSON_HANDSHAKE)).toEqual({
      pinged: true,
      messages: [{}, { type: 7, error: 'Connection closed with an error.', allowReconnect: true }],
      closed: { code: 1000, reason: '' },
    });
  });
});
