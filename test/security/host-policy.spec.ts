import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HOST_MISSING_OR_REPEATED, HOST_NOT_ALLOWED, HostPolicy } from '../../src/security/host-policy.js';

const quiet = { warn: () => undefined };

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

  it('refuses a request without Host (HTTP/1.0) or with more than one', () => {
    const policy = new HostPolicy({ allowedHosts: ['localhost:*'] }, quiet);
    expect(bodyFor(policy, false)).toBe(HOST_MISSING_OR_REPEATED);
    expect(bodyFor(policy, false, 'localhost', 'localhost')).toBe(HOST_MISSING_OR_REPEATED);
  });

  it('refuses a list that is not one (configuration from untyped JSON), and a bad entry even beside "*"', () => {
    expect(() => new HostPolicy({ allowedHosts: 'localhost' as unknown as string[] }, quiet)).toThrow(/allowedHosts/);
    expect(() => new HostPolicy({ allowedHosts: ['*', 'https://chat.example.test'] }, quiet)).toThrow(/allowedHosts/);
  });
});
