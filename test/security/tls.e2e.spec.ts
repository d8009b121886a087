import { HubConnectionState } from '@microsoft/signalr';
import { JwtService } from '@nestjs/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientPool } from '../support/client.js';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { upgradeStatus } from '../support/raw-client.js';
import { loopbackCertificate, trustAnyCertificate } from '../support/tls.js';
import { AdminsHub, HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from './security-hubs.js';

const hubs = [OpenHub, PrivateHub, AdminsHub, HubCodeRuns, NotBannedPolicy];

describe('TLS: the whole flow over https and wss', () => {
  let server: RunningHubApp;
  let jwt: JwtService;
  const clients = new ClientPool();

  beforeAll(async () => {
    trustAnyCertificate();
    server = await startHubApp(hubs, { authStrategies: ['jwt'], requireSecureTransport: true }, {
      imports: [TestAuthModule],
      httpsOptions: await loopbackCertificate(),
    });
    jwt = server.app.get(JwtService);
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('negotiates over https and connects over wss with authentication, with the official client', async () => {
    expect(server.baseUrl.startsWith('https://')).toBe(true);
    const client = await clients.connect(`${server.baseUrl}/hubs/private`, { accessTokenFactory: () => signFor(jwt, 'alice') });
    expect(client.state).toBe(HubConnectionState.Connected);
    await expect(client.invoke('Ping')).resolves.toBe('pong');
  });

  it('keeps the security checks over TLS (401 without identity)', async () => {
    expect((await upgradeStatus(`${server.baseUrl}/hubs/private`)).status).toBe(401);
  });
});

describe('requireSecureTransport on a plain-text server', () => {
  let server: RunningHubApp;

  beforeAll(async () => {
    server = await startHubApp(hubs, { requireSecureTransport: true, trustedProxies: ['127.0.0.1'] });
  });

  afterAll(() => server.close());

  const negotiateStatus = async (headers: Record<string, string>) =>
    (await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method: 'POST', headers })).status;

  it('refuses plain text forwarded by a trusted proxy, on negotiate and upgrade', async () => {
    expect(await negotiateStatus({ 'X-Forwarded-Proto': 'http' })).toBe(403);
    expect(await negotiateStatus({})).toBe(403);
    expect((await upgradeStatus(`${server.baseUrl}/hubs/open`, { 'X-Forwarded-Proto': 'http' })).status).toBe(403);
  });

  it('accepts what a trusted proxy received over TLS', async () => {
    expect(await negotiateStatus({ 'X-Forwarded-Proto': 'https' })).toBe(200);
    expect((await upgradeStatus(`${server.baseUrl}/hubs/open`, { 'X-Forwarded-Proto': 'https' })).status).toBe(101);
  });
});

describe('requireSecureTransport without proxies', () => {
  it('exempts loopback peers, and ignores X-Forwarded-Proto from untrusted peers', async () => {
    const server = await startHubApp(hubs, { requireSecureTransport: true });
    try {
      const response = await fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, {
        method: 'POST',
        headers: { 'X-Forwarded-Proto': 'http' },
      });
      expect(response.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
