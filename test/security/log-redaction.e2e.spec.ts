import { JwtService } from '@nestjs/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import { createHubApp, listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, upgradeStatus } from '../support/raw-client.js';
import { Module } from '@nestjs/common';
import { SignalRModule } from 'nestjs-signalr';
import { AdminsHub, HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from './security-hubs.js';

@Module({
  imports: [SignalRModule.forRoot({ authStrategies: ['jwt'], allowedOrigins: ['https://app.example.test'] }), TestAuthModule],
  providers: [OpenHub, PrivateHub, AdminsHub, HubCodeRuns, NotBannedPolicy],
})
class LoggedAppModule {}

describe('logs never contain connection tokens, access tokens or connection ids of others', () => {
  const logger = new CapturingLogger();
  let server: RunningHubApp;

  beforeAll(async () => {
    server = await listenOnLoopback(await createHubApp(LoggedAppModule, { logger }));
  });

  afterAll(() => server.close());

  it('redacts id and access_token on every refusal path', async () => {
    const jwt = server.app.get(JwtService);
    const alice = signFor(jwt, 'alice');
    const bob = signFor(jwt, 'bob');
    const hubUrl = `${server.baseUrl}/hubs/private`;
    const { connectionId, connectionToken } = await negotiate(hubUrl, { headers: { Authorization: `Bearer ${alice}` } });
    const secrets = [alice, bob, connectionToken, connectionId];

    // Identity change, foreign origin, no identity, and a tampered token: each one is logged.
    expect((await upgradeStatus(`${hubUrl}?id=${connectionToken}&access_token=${bob}`)).status).toBe(403);
    expect((await upgradeStatus(`${hubUrl}?id=${connectionToken}&access_token=${alice}`, { Origin: 'https://evil.example.test' })).status).toBe(403);
    expect((await upgradeStatus(`${hubUrl}?id=${connectionToken}`)).status).toBe(401);
    expect((await upgradeStatus(`${hubUrl}?id=${connectionToken}x&access_token=${alice}`)).status).toBe(404);

    const logged = logger.lines.join('\n');
    expect(logged).toContain('[redacted]');
    for (const secret of secrets) expect(logged).not.toContain(secret);
  });
});
