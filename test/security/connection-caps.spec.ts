import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { checkModuleOptions } from '../../src/module-options-check.js';
import { connectionCaps, type ConnectionCapOptions } from '../../src/options/signalr-module-options.js';
import { CONNECTION_CAP_RETRY_AFTER_SECONDS, ConnectionCaps, type ConnectionSlot } from '../../src/security/connection-caps.js';
import type { Refusal } from '../../src/security/hub-gatekeeper.js';
import { CapturingLogger } from '../support/capturing-logger.js';

const HUB = '/hubs/chat';
const PER_USER = { status: 429, body: 'Too many connections for this user.' };
const PER_ADDRESS = { status: 429, body: 'Too many connections from this address.' };
const TOTAL = { status: 503, body: 'This server has reached its connection limit.' };
/** Nest's static logger, where caps built without a logger warn, as the module builds them. */
const nestLog = new CapturingLogger();
Logger.overrideLogger(nestLog);

function capsOf(options: ConnectionCapOptions, warnings: string[] = []): ConnectionCaps {
  return new ConnectionCaps(connectionCaps(options), { warn: (message: string) => warnings.push(message) });
}

function slot(taken: ConnectionSlot | Refusal): ConnectionSlot {
  if (!taken.admitted) throw new Error(`refused with ${taken.status}: ${taken.body}`);
  return taken;
}

/**
 * The users and addresses the caps keep counts for. Counting under an unset cap refuses nothing
 * either way, so what not counting spares, memory for every live connection, shows only here.
 */
function countedKeys(caps: ConnectionCaps): { users: string[]; addresses: string[] } {
  const counts = caps as unknown as { perUser: Map<string, number>; perAddress: Map<string, number> };
  return { users: [...counts.perUser.keys()], addresses: [...counts.perAddress.keys()] };
}

const refusalOf = (taken: ConnectionSlot | Refusal) => (taken.admitted ? undefined : { status: taken.status, body: taken.body });

describe('ConnectionCaps', () => {
  it('caps nothing when no cap is set', () => {
    const caps = capsOf({});
    for (let i = 0; i < 10_000; i++) slot(caps.take(HUB, 'alice', '203.0.113.1'));
    expect(caps.check(HUB, 'alice', '203.0.113.1')).toBeUndefined();
  });

  it('keeps no count of users or addresses that no cap is set for', () => {
    const onlyTotal = capsOf({ maximumConnections: 10 });
    slot(onlyTotal.take(HUB, 'alice', '203.0.113.1'));
    expect(countedKeys(onlyTotal)).toEqual({ users: [], addresses: [] });
    const perUser = capsOf({ maximumConnectionsPerUser: 10 });
    slot(perUser.take(HUB, 'alice', '203.0.113.1'));
    expect(countedKeys(perUser)).toEqual({ users: ['alice'], addresses: [] });
    const perAddress = capsOf({ maximumConnectionsPerAddress: 10 });
    slot(perAddress.take(HUB, 'alice', '203.0.113.1'));
    expect(countedKeys(perAddress)).toEqual({ users: [], addresses: ['203.0.113.1'] });
  });

  it('refuses the connection one past the per-user cap with 429, counting each user apart and anonymous ones not at all', () => {
    const caps = capsOf({ maximumConnectionsPerUser: 2 });
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    slot(caps.take(HUB, 'alice', '203.0.113.2'));
    expect(refusalOf(caps.take(HUB, 'alice', '203.0.113.3'))).toEqual(PER_USER);
    slot(caps.take(HUB, 'bob', '203.0.113.1'));
    for (let i = 0; i < 5; i++) slot(caps.take(HUB, undefined, '203.0.113.1'));
  });

  it('refuses the connection one past the per-address cap with 429, whoever connects; unknown addresses are not counted', () => {
    const caps = capsOf({ maximumConnectionsPerAddress: 2 });
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    slot(caps.take(HUB, undefined, '203.0.113.1'));
    expect(refusalOf(caps.take(HUB, 'bob', '203.0.113.1'))).toEqual(PER_ADDRESS);
    expect(refusalOf(caps.take(HUB, undefined, '203.0.113.1'))).toEqual(PER_ADDRESS);
    slot(caps.take(HUB, 'bob', '2001:db8::1'));
    for (let i = 0; i < 5; i++) slot(caps.take(HUB, undefined, undefined));
  });

  it('refuses the connection one past the total cap with 503', () => {
    const caps = capsOf({ maximumConnections: 2 });
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    slot(caps.take('/hubs/other', undefined, '203.0.113.2'));
    expect(refusalOf(caps.take(HUB, 'bob', '203.0.113.3'))).toEqual(TOTAL);
  });

  it("names the client's own cap when the server is full too, and always asks to retry later", () => {
    const caps = capsOf({ maximumConnections: 1, maximumConnectionsPerUser: 1, maximumConnectionsPerAddress: 1 });
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    expect(caps.check(HUB, 'alice', '203.0.113.2')).toMatchObject(PER_USER);
    expect(caps.check(HUB, 'bob', '203.0.113.1')).toMatchObject(PER_ADDRESS);
    const full = caps.check(HUB, 'bob', '203.0.113.2');
    expect(full).toMatchObject(TOTAL);
    expect(full?.headers).toEqual({ 'Retry-After': String(CONNECTION_CAP_RETRY_AFTER_SECONDS) });
  });

  it('checks without taking', () => {
    const caps = capsOf({ maximumConnections: 1, maximumConnectionsPerUser: 1, maximumConnectionsPerAddress: 1 });
    for (let i = 0; i < 3; i++) expect(caps.check(HUB, 'alice', '203.0.113.1')).toBeUndefined();
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    expect(caps.check(HUB, 'alice', '203.0.113.1')).toBeDefined();
  });

  it('gives a released slot back under every cap, once however often it is released', () => {
    const caps = capsOf({ maximumConnections: 2, maximumConnectionsPerUser: 2, maximumConnectionsPerAddress: 2 });
    const first = slot(caps.take(HUB, 'alice', '203.0.113.1'));
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    first.release();
    first.release();
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    expect(caps.check(HUB, 'alice', '203.0.113.1')).toBeDefined();
    expect(caps.check(HUB, 'bob', '203.0.113.2')).toMatchObject(TOTAL);
  });

  it('logs a refusal with the cap and the hub, at most once per interval for each cap', () => {
    const warnings: string[] = [];
    const caps = capsOf({ maximumConnectionsPerUser: 1, maximumConnectionsPerAddress: 1 }, warnings);
    slot(caps.take(HUB, 'alice', '203.0.113.1'));
    for (let i = 0; i < 100; i++) caps.take(HUB, 'alice', '203.0.113.9');
    for (let i = 0; i < 100; i++) caps.check(HUB, 'bob', '203.0.113.1');
    expect(warnings).toEqual([
      'Refused a connection to /hubs/chat: maximumConnectionsPerUser (1) reached.',
      'Refused a connection to /hubs/chat: maximumConnectionsPerAddress (1) reached.',
    ]);
    expect(warnings.join('\n')).not.toMatch(/alice|bob|203\.0\.113/);
  });

  it("warns in Nest's log under SignalR:Security when given no logger", () => {
    nestLog.lines.splice(0);
    const caps = new ConnectionCaps(connectionCaps({ maximumConnections: 1 }));
    slot(caps.take(HUB, undefined, undefined));
    caps.check(HUB, undefined, undefined);
    expect(nestLog.lines).toEqual(['Refused a connection to /hubs/chat: maximumConnections (1) reached. SignalR:Security']);
  });
});

describe('connectionCaps (module options)', () => {
  it('leaves every cap unset by default', () => {
    expect(connectionCaps({})).toEqual({
      maximumConnections: undefined,
      maximumConnectionsPerUser: undefined,
      maximumConnectionsPerAddress: undefined,
    });
  });

  it.each(['maximumConnections', 'maximumConnectionsPerUser', 'maximumConnectionsPerAddress'] as const)(
    'refuses a %s that is not a positive integer',
    (option) => {
      for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
        expect(() => checkModuleOptions({ [option]: value })).toThrow(
          expect.objectContaining({ name: 'SignalRError', code: SignalRErrorCode.InvalidOption, message: expect.stringContaining(`'${option}'`) }),
        );
      }
      expect(connectionCaps(checkModuleOptions({ [option]: 1 }))[option]).toBe(1);
    },
  );
});
