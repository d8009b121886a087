import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGINS_PER_MINUTE } from '../../sample-app/auth/auth.module.js';
import { FAILED_LOGINS_PER_WINDOW } from '../../sample-app/auth/failed-logins.js';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { upgradeResponse } from '../support/raw-client.js';

type Headers = Record<string, string | string[] | undefined>;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
}


describe('sample app headers and abuse limits (contract: "Hosts and abuse limits")', () => {
  let server: RunningHubApp;

  /** A request from `localAddress` (any of 127/8 reaches the server): the limits are per remote address. */
  const send = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const request = httpRequest(`${server.baseUrl}${path}`, { method: init.method ?? 'GET', headers: init.headers, localAddress: init.localAddress });
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
      });
      request.on('error', reject);
      request.end(init.body);
    });
  const login = (username: string, password: string, localAddress = '127.0.0.1') =>
    send('/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
      localAddress,
    });

  beforeAll(async () => {
    server = await listenOnLoopback(await createSampleApp({ logger: false }));
  });

  afterAll(() => server.close());

  /** Every kind of answer the sample gives: pages, scripts, JSON, errors, and what the hub adapter writes itself. */
  const answers: [string, () => Promise<Answer>][] = [
    ['the chat page', () => send('/')],
    ['the page script', () => send('/chat.js')],
    ['the SignalR client script', () => send('/vendor/signalr.min.js')],
    ['the stylesheet', () => send('/chat.css')],
    ['the health check', () => send('/health')],
    ['an unknown path (404)', () => send('/no-such-page')],
    ['a successful login', () => login('bob', 'bob-pass')],
    ['a failed login (401)', () => login('bob', 'wrong')],
    ['a malformed login (400)', () => send('/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' })],
    ['a negotiate answer', () => send('/hubs/public/negotiate?negotiateVersion=1', { method: 'POST' })],
    ['a refused negotiate (401)', () => send('/hubs/chat/negotiate?negotiateVersion=1', { method: 'POST' })],
    ['a negotiate with the wrong method (405)', () => send('/hubs/public/negotiate')],
    [
      'a refused preflight (403)',
      () => send('/hubs/public/negotiate', { method: 'OPTIONS', headers: { Origin: 'https://evil.example.test', 'Access-Control-Request-Method': 'POST' } }),
    ],
    ['a refused WebSocket upgrade (401)', () => upgradeResponse(`${server.baseUrl}/hubs/chat`)],
  ];

  it.each(answers)('%s: X-Content-Type-Options nosniff, no X-Powered-By, a Content-Security-Policy if HTML or JavaScript', async (_label, answer) => {
    const { status, headers } = await answer();
    expect(status).not.toBe(101);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-powered-by']).toBeUndefined();
    if (/html|javascript/.test(String(headers['content-type']))) expect(headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('sets the Content-Security-Policy on the page and on both scripts', async () => {
    for (const path of ['/', '/chat.js', '/vendor/signalr.min.js']) {
      const { status, headers } = await send(path);
      expect(status).toBe(200);
      expect(headers['content-type']).toMatch(/html|javascript/);
      expect(headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it('answers 429 from the 11th failed login of an address, to right and wrong passwords alike; other addresses log in', async () => {
    const guesser = '127.0.0.3';
    for (let i = 0; i < FAILED_LOGINS_PER_WINDOW; i++) expect((await login('alice', `guess-${i}`, guesser)).status).toBe(401);
    expect((await login('alice', 'guess-10', guesser)).status).toBe(429);
    // A right guess must look like a wrong one, or the limit would tell the guesser when to stop.
    expect((await login('alice', 'alice-pass', guesser)).status).toBe(429);
    expect((await login('bob', 'bob-pass', guesser)).status).toBe(429);
    expect((await login('alice', 'alice-pass', '127.0.0.4')).status).toBe(200);
    expect((await login('alice', 'wrong', '127.0.0.4')).status).toBe(401);
  });

  it('lets 300 successful logins of one address and more through within a minute; past LOGINS_PER_MINUTE, 429', async () => {
    const address = '127.0.0.5';
    expect(LOGINS_PER_MINUTE).toBeGreaterThanOrEqual(300);
    for (let sent = 0; sent < LOGINS_PER_MINUTE; sent += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, LOGINS_PER_MINUTE - sent) }, () => login('bob', 'bob-pass', address)));
      expect(batch.map(({ status }) => status).filter((status) => status !== 200)).toEqual([]);
    }
    expect((await login('bob', 'bob-pass', address)).status).toBe(429);
  });

  it('counts successful logins as no failure, and they do not wipe earlier failures', async () => {
    const address = '127.0.0.6';
    for (let i = 1; i < FAILED_LOGINS_PER_WINDOW; i++) expect((await login('bob', 'wrong', address)).status).toBe(401);
    for (let i = 0; i < 20; i++) expect((await login('bob', 'bob-pass', address)).status).toBe(200);
    expect((await login('bob', 'wrong', address)).status).toBe(401);
    expect((await login('bob', 'wrong', address)).status).toBe(429);
  });
});
