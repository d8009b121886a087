import { createServer as createHttpServer, IncomingMessage } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Socket } from 'node:net';
import { generate } from 'selfsigned';
import { describe, expect, it } from 'vitest';
import { TransportSecurity } from '../../src/security/transport-security.js';
import { judgeRealRequest } from '../support/real-request.js';

const PROXY = '10.0.0.5';
const PROXY_V6 = 'fd00::5';
const CLIENT = '203.0.113.7';

/** A request whose immediate peer, the socket's other end, is `remoteAddress`. */
function requestFrom(remoteAddress: string | undefined, headers: IncomingHttpHeaders = {}): IncomingMessage {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
  return Object.assign(new IncomingMessage(socket), { headers });
}

describe('TransportSecurity start-up checks', () => {
  it.each([['proxy.internal'], ['10.0.0.0/8'], ['10.0.0.5:8080'], ['[fd00::5]'], ['']])(
    'refuses the trusted proxy %j, which is not an IP address',
    (entry) => {
      expect(() => new TransportSecurity({ trustedProxies: [entry] })).toThrow(
        `trustedProxies entry ${JSON.stringify(entry)} is not an IP address. List each proxy by its address, without host name, port or prefix length.`,
      );
    },
  );

  it('accepts IPv4, IPv6 and IPv4-mapped IPv6 proxies', () => {
    expect(() => new TransportSecurity({ trustedProxies: [PROXY, PROXY_V6, '::ffff:10.0.0.6'] })).not.toThrow();
  });
});

describe('TransportSecurity.isSecure', () => {
  const security = new TransportSecurity({ trustedProxies: [PROXY, PROXY_V6] });

  it('is true on a real TLS connection and false on plain http', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }]);
    const tls = createHttpsServer({ key: pems.private, cert: pems.cert });
    expect(await judgeRealRequest(tls, 'https', {}, (request) => security.isSecure(request))).toBe(true);
    const plain = createHttpServer();
    expect(await judgeRealRequest(plain, 'http', {}, (request) => security.isSecure(request))).toBe(false);
  });

  it('believes X-Forwarded-Proto from a trusted proxy', () => {
    expect(security.isSecure(requestFrom(PROXY, { 'x-forwarded-proto': 'https' }))).toBe(true);
    expect(security.isSecure(requestFrom(PROXY, { 'x-forwarded-proto': 'HTTPS' }))).toBe(true);
    expect(security.isSecure(requestFrom(PROXY_V6, { 'x-forwarded-proto': 'https' }))).toBe(true);
    expect(security.isSecure(requestFrom(PROXY, { 'x-forwarded-proto': 'http' }))).toBe(false);
    expect(security.isSecure(requestFrom(PROXY))).toBe(false);
  });

  it('recognizes a trusted proxy however its address is written', () => {
    const https = { 'x-forwarded-proto': 'https' };
    expect(security.isSecure(requestFrom(`::ffff:${PROXY}`, https))).toBe(true);
    expect(security.isSecure(requestFrom('FD00:0:0::5', https))).toBe(true);
    const mappedEntry = new TransportSecurity({ trustedProxies: ['::ffff:10.0.0.6'] });
    expect(mappedEntry.isSecure(requestFrom('10.0.0.6', https))).toBe(true);
  });

  it('ignores X-Forwarded-Proto from any other peer, loopback included', () => {
    for (const peer of [CLIENT, '10.0.0.6', '127.0.0.1', '::1', undefined]) {
      expect(security.isSecure(requestFrom(peer, { 'x-forwarded-proto': 'https' }))).toBe(false);
    }
  });

  it('does not look up the peer address when no proxy is listed (it was 3 % of the CPU a connect took)', () => {
    let peerLookups = 0;
    const socket = new Socket();
    Object.defineProperty(socket, 'remoteAddress', {
      get: () => {
        peerLookups++;
        return PROXY;
      },
    });
    const request = Object.assign(new IncomingMessage(socket), { headers: { 'x-forwarded-proto': 'https' } });
    expect(new TransportSecurity().isSecure(request)).toBe(false);
    expect(new TransportSecurity({ trustedProxies: [] }).isSecure(request)).toBe(false);
    expect(peerLookups).toBe(0);
    expect(security.isSecure(request)).toBe(true);
    expect(peerLookups).toBe(1);
  });

  it('ignores X-Forwarded-Proto sent by the client over a real connection', async () => {
    const plain = createHttpServer();
    const forged = { 'X-Forwarded-Proto': 'https' };
    expect(await judgeRealRequest(plain, 'http', { headers: forged }, (request) => security.isSecure(request))).toBe(false);
  });

  it("uses only the last X-Forwarded-Proto value: the one the trusted proxy wrote", () => {
    expect(security.isSecure(requestFrom(PROXY, { 'x-forwarded-proto': 'http, https' }))).toBe(true);
    expect(security.isSecure(requestFrom(PROXY, { 'x-forwarded-proto': 'https, http' }))).toBe(false);
    expect(security.isSecure(requestFrom(PROXY, { 'x-forwarded-proto': 'https,' }))).toBe(false);
  });
});

describe('TransportSecurity.refusal', () => {
  const required = new TransportSecurity({ requireSecureTransport: true, trustedProxies: [PROXY] });

  it('refuses nothing by default', () => {
    expect(new TransportSecurity().refusal(requestFrom(CLIENT))).toBeUndefined();
  });

  it('refuses plain text from a remote peer when secure transport is required', () => {
    expect(required.refusal(requestFrom(CLIENT))).toMatch(/secure transport .* is required/);
    expect(required.refusal(requestFrom('::ffff:203.0.113.7'))).toMatch(/required/);
    expect(required.refusal(requestFrom(undefined))).toMatch(/required/);
  });

  it('refuses plain text forwarded by a trusted proxy, and not what it received over TLS', () => {
    expect(required.refusal(requestFrom(PROXY, { 'x-forwarded-proto': 'http' }))).toMatch(/required/);
    expect(required.refusal(requestFrom(PROXY, { 'x-forwarded-proto': 'https' }))).toBeUndefined();
  });

  it('refuses a remote client that claims https itself', () => {
    expect(required.refusal(requestFrom(CLIENT, { 'x-forwarded-proto': 'https' }))).toMatch(/required/);
  });

  it('exempts loopback peers, which cross no network', () => {
    for (const peer of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) {
      expect(required.refusal(requestFrom(peer))).toBeUndefined();
    }
    for (const peer of ['128.0.0.1', '::2', '::ffff:128.0.0.1', '0.0.0.0']) {
      expect(required.refusal(requestFrom(peer))).toMatch(/required/);
    }
  });

  it('exempts a real plain-text request from 127.0.0.1', async () => {
    const plain = createHttpServer();
    expect(await judgeRealRequest(plain, 'http', {}, (request) => required.refusal(request))).toBeUndefined();
  });

  it('does not exempt plain text relayed by a trusted proxy on loopback', () => {
    const behindLocalProxy = new TransportSecurity({ requireSecureTransport: true, trustedProxies: ['127.0.0.1'] });
    expect(behindLocalProxy.refusal(requestFrom('127.0.0.1', { 'x-forwarded-proto': 'http' }))).toMatch(/required/);
    expect(behindLocalProxy.refusal(requestFrom('127.0.0.1'))).toMatch(/required/);
    expect(behindLocalProxy.refusal(requestFrom('127.0.0.1', { 'x-forwarded-proto': 'https' }))).toBeUndefined();
    expect(behindLocalProxy.refusal(requestFrom('::1'))).toBeUndefined();
  });
});

describe('TransportSecurity.clientAddress', () => {
  const security = new TransportSecurity({ trustedProxies: [PROXY, PROXY_V6] });

  it('is the peer address without trusted proxies, whatever X-Forwarded-For says', () => {
    expect(new TransportSecurity().clientAddress(requestFrom(CLIENT, { 'x-forwarded-for': '198.51.100.1' }))).toBe(CLIENT);
    expect(security.clientAddress(requestFrom(CLIENT, { 'x-forwarded-for': '198.51.100.1' }))).toBe(CLIENT);
    expect(security.clientAddress(requestFrom(undefined))).toBeUndefined();
  });

  it('is the address a trusted proxy appended, never one the client wrote before it', () => {
    expect(security.clientAddress(requestFrom(PROXY, { 'x-forwarded-for': CLIENT }))).toBe(CLIENT);
    expect(security.clientAddress(requestFrom(PROXY_V6, { 'x-forwarded-for': `198.51.100.1, ${CLIENT}` }))).toBe(CLIENT);
    expect(security.clientAddress(requestFrom(PROXY, { 'x-forwarded-for': '2001:db8::7' }))).toBe('2001:db8::7');
  });

  it('is the proxy itself when the proxy names no usable address', () => {
    for (const forwarded of [undefined, '', `${CLIENT},`, 'client.example.test', `${CLIENT}:4711`, 'unknown']) {
      const headers = forwarded === undefined ? {} : { 'x-forwarded-for': forwarded };
      expect(security.clientAddress(requestFrom(PROXY, headers))).toBe(PROXY);
    }
  });
});
