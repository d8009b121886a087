import { describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { checkModuleOptions } from '../../src/module-options-check.js';
import { checkHubOptions, DEFAULT_HUB_OPTIONS, resolveHubOptions, STREAM_PAUSE_BYTES } from '../../src/options/hub-options.js';
import { tokenLifetimes } from '../../src/options/signalr-module-options.js';

describe('resolveHubOptions', () => {
  it('starts from ASP.NET Core defaults', () => {
    expect(resolveHubOptions([])).toEqual(DEFAULT_HUB_OPTIONS);
    expect(DEFAULT_HUB_OPTIONS).toMatchObject({
      keepAliveIntervalMs: 15_000,
      clientTimeoutIntervalMs: 30_000,
      handshakeTimeoutMs: 15_000,
      maximumReceiveMessageSize: 32_768,
      maximumParallelInvocationsPerClient: 1,
      streamBufferCapacity: 10,
    });
  });

  it('lets later layers win and ignores undefined fields', () => {
    const resolved = resolveHubOptions([{ keepAliveIntervalMs: 1000, handshakeTimeoutMs: 500 }, { keepAliveIntervalMs: 2000, handshakeTimeoutMs: undefined }]);
    expect(resolved.keepAliveIntervalMs).toBe(2000);
    expect(resolved.handshakeTimeoutMs).toBe(500);
  });

  it('bounds what a client may leave unread at 4 MiB, with 16 streams and 1,000 queued Observable items', () => {
    expect(DEFAULT_HUB_OPTIONS).toMatchObject({
      maximumBufferedBytesPerClient: 4 * 1024 * 1024,
      maximumConcurrentStreamsPerClient: 16,
      maximumQueuedObservableItems: 1000,
    });
  });

  it('refuses an outbound limit under which streams could never pause or Acks arrive', () => {
    expect(() => resolveHubOptions([{ maximumBufferedBytesPerClient: 2 * STREAM_PAUSE_BYTES - 1 }])).toThrow(/maximumBufferedBytesPerClient/);
    expect(() => resolveHubOptions([{ maximumBufferedBytesPerClient: 500_000, statefulReconnectBufferSize: 500_001 }])).toThrow(/statefulReconnectBufferSize/);
    expect(resolveHubOptions([{ maximumBufferedBytesPerClient: 2 * STREAM_PAUSE_BYTES }]).maximumBufferedBytesPerClient).toBe(2 * STREAM_PAUSE_BYTES);
  });

  it('refuses a frame limit that cannot hold one message of the largest size with its framing', () => {
    expect(DEFAULT_HUB_OPTIONS.maximumReceiveFrameSize).toBe(1024 * 1024);
    expect(() => resolveHubOptions([{ maximumReceiveMessageSize: 1000, maximumReceiveFrameSize: 1004 }])).toThrow(/maximumReceiveFrameSize/);
    expect(resolveHubOptions([{ maximumReceiveMessageSize: 1000, maximumReceiveFrameSize: 1005 }]).maximumReceiveFrameSize).toBe(1005);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s as a limit, for the module and for one hub', (value) => {
    const refusal = expect.objectContaining({ code: SignalRErrorCode.InvalidOption, message: expect.stringContaining("'maximumReceiveMessageSize' must be") });
    expect(() => checkModuleOptions({ maximumReceiveMessageSize: value })).toThrow(refusal);
    expect(() => checkHubOptions('/hubs/a', { maximumReceiveMessageSize: value })).toThrow(refusal);
  });
});

describe('tokenLifetimes', () => {
  it('defaults to 15 s for unused connection tokens and 10 minutes for groups tokens', () => {
    expect(tokenLifetimes({})).toEqual({ negotiateTokenLifetimeMs: 15_000, groupsTokenLifetimeMs: 600_000 });
    expect(tokenLifetimes({ groupsTokenLifetimeMs: 60_000 }).groupsTokenLifetimeMs).toBe(60_000);
  });

  it.each([0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s as a lifetime', (value) => {
    expect(() => checkModuleOptions({ groupsTokenLifetimeMs: value })).toThrow(/'groupsTokenLifetimeMs' must be/);
    expect(() => checkModuleOptions({ negotiateTokenLifetimeMs: value })).toThrow(/'negotiateTokenLifetimeMs' must be/);
  });
});
