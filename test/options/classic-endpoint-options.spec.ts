import { Hub } from 'nestjs-signalr';
import { describe, expect, it } from 'vitest';
import { checkModuleOptions } from '../../src/module-options-check.js';
import { DEFAULT_CLASSIC_ENDPOINT_OPTIONS, resolveClassicEndpointOptions } from '../../src/options/classic-endpoint-options.js';

const problemOf = (classic: unknown) => {
  try {
    checkModuleOptions({ classic });
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n').find((line) => line.startsWith('  - '))?.slice(4);
  }
};

describe('the classic endpoint options', () => {
  it('are off unless asked for; true takes every default; given values win', () => {
    expect(resolveClassicEndpointOptions(undefined)).toBeUndefined();
    expect(resolveClassicEndpointOptions(false)).toBeUndefined();
    expect(resolveClassicEndpointOptions(true)).toEqual(DEFAULT_CLASSIC_ENDPOINT_OPTIONS);
    expect(resolveClassicEndpointOptions({ path: '/legacy', jsonp: true })).toMatchObject({ path: '/legacy', jsonp: true, hubsProxy: false, keepAliveMs: 10_000 });
  });

  it('keep classic SignalR defaults: keep-alive 10 s, disconnect 30 s, connection 110 s, no JSONP, no proxy', () => {
    expect(DEFAULT_CLASSIC_ENDPOINT_OPTIONS).toMatchObject({ path: '/signalr', jsonp: false, hubsProxy: false, keepAliveMs: 10_000, disconnectTimeoutMs: 30_000, connectionTimeoutMs: 110_000 });
  });

  it('are checked at start-up, each problem named', () => {
    expect(problemOf(true)).toBeUndefined();
    expect(problemOf({ path: 'signalr' })).toBe("'classic' 'path' must be a path starting with '/', with no trailing '/' or query");
    expect(problemOf({ transports: ['foreverFrame'] })).toContain("'classic' 'transports' entry 0 must be");
    expect(problemOf({ keepAliveMs: 1000 })).toContain("'classic' 'keepAliveMs' must be an integer number of milliseconds from 2000");
    expect(problemOf({ jsonP: true })).toContain("'jsonP' is not an option: did you mean 'jsonp'?");
  });

  it('give a hub its classic name on @Hub, an identifier as a jQuery proxy name is', () => {
    expect(() => Hub('/hubs/x', { classicName: 'chat hub' })).toThrow("@Hub('/hubs/x') classicName must be an identifier");
    expect(() => Hub('/hubs/x', { classicName: 'chatHub' })).not.toThrow();
  });

  it('let a hub opt out of classic hub state with a boolean on @Hub', () => {
    expect(() => Hub('/hubs/x', { classicState: 'no' as unknown as boolean })).toThrow("@Hub('/hubs/x') classicState must be a boolean; got");
    expect(() => Hub('/hubs/x', { classicState: false })).not.toThrow();
  });
});
