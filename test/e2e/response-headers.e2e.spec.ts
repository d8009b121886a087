import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { rawHttp, upgradeResponse } from '../support/raw-client.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub } from '../security/security-hubs.js';

const FOREIGN = { Origin: 'https://evil.example.test' };
const ALLOWED = { Origin: 'https://app.example.test', 'Access-Control-Request-Method': 'POST' };

describe('answers the adapter writes itself carry X-Content-Type-Options: nosniff', () => {
  let server: RunningHubApp;
  const negotiateUrl = () => `${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`;

  beforeAll(async () => {
    server = await startHubApp([OpenHub, HubCodeRuns, NotBannedPolicy], { allowedOrigins: [ALLOWED.Origin], proxies: true });
  });

  afterAll(() => server.close());

  it.each([
    ['a negotiate answer', 200, () => fetch(negotiateUrl(), { method: 'POST' })],
    ['a negotiate with the wrong method', 405, () => fetch(negotiateUrl())],
    ['a negotiate from a foreign origin', 403, () => fetch(negotiateUrl(), { method: 'POST', headers: FOREIGN })],
    ['a preflight from a foreign origin', 403, () => fetch(negotiateUrl(), { method: 'OPTIONS', headers: FOREIGN })],
    ['an allowed preflight', 204, () => fetch(negotiateUrl(), { method: 'OPTIONS', headers: ALLOWED })],
  ])('%s (%i)', async (_label, status, send) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('a refused WebSocket upgrade (403)', async () => {
    const refusal = await upgradeResponse(`${server.baseUrl}/hubs/open`, FOREIGN);
    expect(refusal.status).toBe(403);
    expect(refusal.headers['x-content-type-options']).toBe('nosniff');
  });

  it('a proxy file, which also forbids everything should a browser open it as a page', async () => {
    const response = await fetch(`${server.baseUrl}/hubs/open/proxy.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'");
  });

  it('a malformed upgrade, refused by the WebSocket layer (400)', async () => {
    const { host } = new URL(server.baseUrl);
    const answer = await rawHttp(server.baseUrl, 'GET', '/hubs/open', [
      ['Host', host],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'websocket'],
      ['Sec-WebSocket-Version', '13'],
      ['Sec-WebSocket-Key', 'not a key'],
    ]);
    expect(answer.status).toBe(400);
    expect(answer.head.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(answer.body).toBe('Missing or invalid Sec-WebSocket-Key header');
  });
});
