import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { upgradeResponse } from '../support/raw-client.js';
import { HubCodeRuns, NotBannedPolicy, OpenHub } from '../security/security-hubs.js';

const FOREIGN = { Origin: 'https://evil.example.test' };

describe('answers the adapter writes itself carry X-Content-Type-Options: nosniff', () => {
  let server: RunningHubApp;
  const negotiateUrl = () => `${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`;

  beforeAll(async () => {
    server = await startHubApp([OpenHub, HubCodeRuns, NotBannedPolicy]);
  });

  afterAll(() => server.close());

  it.each([
    ['a negotiate answer', 200, () => fetch(negotiateUrl(), { method: 'POST' })],
    ['a negotiate with the wrong method', 405, () => fetch(negotiateUrl())],
    ['a negotiate from a foreign origin', 403, () => fetch(negotiateUrl(), { method: 'POST', headers: FOREIGN })],
    ['a preflight from a foreign origin', 403, () => fetch(negotiateUrl(), { method: 'OPTIONS', headers: FOREIGN })],
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
});
