import { Logger } from '@nestjs/common';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { HOST_MISSING_OR_REPEATED, HOST_NOT_ALLOWED, HostPolicy } from '../../src/security/host-policy.js';
import { CapturingLogger } from '../support/capturing-logger.js';

const quiet = { warn: () => undefined };
/** Nest's static logger, where a policy built without a logger warns, as the module builds it. */
const nestLog = new CapturingLogger();
Logger.overrideLogger(nestLog);

/** A request carrying these Host headers, in order, as Node's parser would present it. */
function requestWithHosts(...hosts: string[]): IncomingMessage {
  return Object.assign(new IncomingMessage(new Socket()), {
    headers: hosts.length > 0 ? { host: hosts[0] } : {},
    rawHeaders: hosts.flatMap((host) => ['Host', host]),
  });
}

function bodyFor(policy: HostPolicy, secure: boolean, ...hosts: string[]): string | undefined {
  return policy.refusal(requestWithHosts(...hosts), secure, '/hubs/chat');
}

/** 127.0.0.1 spelled in `length` characters: hexadecimal IPv4 with leading zeros. */
const spelledAt = (length: number) => `0x${'0'.repeat(length - 10)}7f.0.0.1`;

/** What a policy for chat.example.test warns when it refuses a request with these Host headers. */
function warningFor(...hosts: string[]): string[] {
  const warnings: string[] = [];
  new HostPolicy({ allowedHosts: ['chat.example.test'] }, { warn: (message: string) => warnings.push(message) }).refusal(
    requestWithHosts(...hosts),
    false,
    '/hubs/chat',
  );
  return warnings;
}

describe('HostPolicy', () => {
  it('refuses nothing when unset or when it lists "*"', () => {
    for (const policy of [new HostPolicy({}, quiet), new HostPolicy({ allowedHosts: ['*'] }, quiet)]) {
      expect(policy.restricts).toBe(false);
      expect(bodyFor(policy, false, 'rebind.attacker.test')).toBeUndefined();
      expect(bodyFor(policy, false)).toBeUndefined();
    }
  });

  it('takes a bare name as the default port of the request scheme: 443 over TLS, 80 otherwise', () => {
    const policy = new HostPolicy({ allowedHosts: ['chat.example.test'] }, quiet);
    expect(bodyFor(policy, true, 'chat.example.test')).toBeUndefined();
    expect(bodyFor(policy, true, 'chat.example.test:443')).toBeUndefined();
    expect(bodyFor(policy, true, 'chat.example.test:80')).toBe(HOST_NOT_ALLOWED);
    expect(bodyFor(policy, false, 'chat.example.test:80')).toBeUndefined();
    expect(bodyFor(policy, false, 'chat.example.test:443')).toBe(HOST_NOT_ALLOWED);
  });

  it('compares names in canonical form: case, IPv6 compression, IPv4 shorthand', () => {
    const policy = new HostPolicy({ allowedHosts: ['[::1]:*', '127.0.0.1:3000', 'Chat.Example.Test'] }, quiet);
    expect(bodyFor(policy, false, '[0:0::1]:5')).toBeUndefined();
    expect(bodyFor(policy, false, '127.1:3000')).toBeUndefined();
    expect(bodyFor(policy, false, 'CHAT.example.test')).toBeUndefined();
    expect(bodyFor(policy, false, '[::2]:5')).toBe(HOST_NOT_ALLOWED);
    expect(bodyFor(policy, false, '[::1')).toBe(HOST_NOT_ALLOWED);
  });

  it('refuses a name of the right shape that is no address, in Host and in entries', () => {
    const policy = new HostPolicy({ allowedHosts: ['[::1]:*'] }, quiet);
    expect(bodyFor(policy, false, '[1::2::3]:5')).toBe(HOST_NOT_ALLOWED);
    expect(() => new HostPolicy({ allowedHosts: ['[1::2::3]'] }, quiet)).toThrow(/allowedHosts/);
  });

  it('refuses a request without Host (HTTP/1.0) or with more than one', () => {
    const policy = new HostPolicy({ allowedHosts: ['localhost:*'] }, quiet);
    expect(bodyFor(policy, false)).toBe(HOST_MISSING_OR_REPEATED);
    expect(bodyFor(policy, false, 'localhost', 'localhost')).toBe(HOST_MISSING_OR_REPEATED);
  });

  it('refuses a list that is not one (configuration from untyped JSON), and a bad entry even beside "*"', () => {
    expect(() => new HostPolicy({ allowedHosts: 'localhost' as unknown as string[] }, quiet)).toThrow(
      expect.objectContaining({
        code: SignalRErrorCode.InvalidOption,
        message: expect.stringContaining(`Option 'allowedHosts' has "localhost": expected a list of hosts.`),
      }),
    );
    expect(() => new HostPolicy({ allowedHosts: ['*', 'https://chat.example.test'] }, quiet)).toThrow(/allowedHosts/);
  });

  it('counts Host headers by name only: a header whose value is "host" is not one', () => {
    const policy = new HostPolicy({ allowedHosts: ['chat.example.test'] }, quiet);
    const request = Object.assign(new IncomingMessage(new Socket()), {
      headers: { host: 'chat.example.test', 'x-role': 'host' },
      rawHeaders: ['Host', 'chat.example.test', 'X-Role', 'host'],
    });
    expect(policy.refusal(request, false, '/hubs/chat')).toBeUndefined();
  });

  it('admits a name listed with several ports on any of them', () => {
    const policy = new HostPolicy({ allowedHosts: ['chat.example.test:8080', 'chat.example.test:9090'] }, quiet);
    expect(bodyFor(policy, false, 'chat.example.test:8080')).toBeUndefined();
    expect(bodyFor(policy, false, 'chat.example.test:9090')).toBeUndefined();
    expect(bodyFor(policy, false, 'chat.example.test:7070')).toBe(HOST_NOT_ALLOWED);
  });

  it('reads port 65535, the highest, in Host and in entries', () => {
    const policy = new HostPolicy({ allowedHosts: ['chat.example.test:65535'] }, quiet);
    expect(bodyFor(policy, false, 'chat.example.test:65535')).toBeUndefined();
    expect(() => new HostPolicy({ allowedHosts: ['chat.example.test:65536'] }, quiet)).toThrow(/allowedHosts/);
  });

  it('reads at most 270 characters of Host or of an entry, however it would canonicalize', () => {
    expect(spelledAt(270)).toHaveLength(270);
    const policy = new HostPolicy({ allowedHosts: ['127.0.0.1:*'] }, quiet);
    expect(bodyFor(policy, false, `${spelledAt(270)}`)).toBeUndefined();
    expect(bodyFor(policy, false, `${spelledAt(271)}`)).toBe(HOST_NOT_ALLOWED);
    expect(bodyFor(new HostPolicy({ allowedHosts: [spelledAt(270)] }, quiet), false, '127.0.0.1')).toBeUndefined();
    expect(() => new HostPolicy({ allowedHosts: [spelledAt(271)] }, quiet)).toThrow(/allowedHosts/);
  });

  it('says why it refused, in a warning', () => {
    expect(warningFor('chat.example.test', 'chat.example.test')).toEqual(['Refused a request to /hubs/chat: 2 Host headers.']);
    expect(warningFor('chat.example.test/path')).toEqual(['Refused a request to /hubs/chat: its Host header is not a host[:port].']);
    expect(warningFor('rebind.attacker.test:80')).toEqual(['Refused a request to /hubs/chat: Host rebind.attacker.test:80 is not in allowedHosts.']);
  });

  it("warns in Nest's log under SignalR:Security when given no logger", () => {
    nestLog.lines.splice(0);
    new HostPolicy({ allowedHosts: ['chat.example.test'] }).refusal(requestWithHosts('rebind.attacker.test'), false, '/hubs/chat');
    expect(nestLog.lines).toEqual(['Refused a request to /hubs/chat: Host rebind.attacker.test:80 is not in allowedHosts. SignalR:Security']);
  });
});
