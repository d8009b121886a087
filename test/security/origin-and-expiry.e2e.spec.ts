import { JwtService } from '@nestjs/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { negotiate, RS, upgradeStatus } from '../support/raw-client.js';
import { AdminsHub, HubCodeRuns, NotBannedPolicy, OpenHub, PrivateHub } from './security-hubs.js';

const ALLOWED = 'https://app.example.test';

describe('Origin checks against CSRF and cross-site WebSocket hijacking', () => {
  let server: RunningHubApp;
  let runs: HubCodeRuns;
  const negotiateWith = (headers: Record<string, string>, method = 'POST') =>
    fetch(`${server.baseUrl}/hubs/open/negotiate?negotiateVersion=1`, { method, headers });

  beforeAll(async () => {
    server = await startHubApp([OpenHub, HubCodeRuns, NotBannedPolicy], { allowedOrigins: [ALLOWED] });
    runs = server.app.get(HubCodeRuns);
  });

  afterAll(() => server.close());

  it('lets requests without Origin (non-browser clients) and same-origin requests through', async () => {
    expect((await negotiateWith({})).status).toBe(200);
    expect((await negotiateWith({ Origin: server.baseUrl })).status).toBe(200);
    expect((await upgradeStatus(`${server.baseUrl}/hubs/open`, { Origin: server.baseUrl })).status).toBe(101);
  });

  it.each([
    ['a foreign site', 'https://evil.example.test'],
    ['the null origin', 'null'],
    ['the same host on another port', 'http://127.0.0.1:1'],
    ['the same host and port over another scheme', 'SCHEME'],
    ['a subdomain of an allowed origin', 'https://evil.app.example.test'],
  ])('refuses %s with 403 on negotiate and upgrade, no CORS headers, no hub code', async (_label, originTemplate) => {
    const origin = originTemplate === 'SCHEME' ? server.baseUrl.replace('http:', 'https:') : originTemplate;
    const response = await negotiateWith({ Origin: origin });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect((await upgradeStatus(`${server.baseUrl}/hubs/open`, { Origin: origin })).status).toBe(403);
    expect(runs.count).toBe(0);
  });

  it('lets a listed origin through with CORS headers naming exactly that origin', async () => {
    const response = await negotiateWith({ Origin: ALLOWED });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await upgradeStatus(`${server.baseUrl}/hubs/open`, { Origin: ALLOWED })).status).toBe(101);
  });

  it('answers preflights only for listed origins, allowing the headers the client sends', async () => {
    const allowed = await negotiateWith(
      { Origin: ALLOWED, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-requested-with, x-signalr-user-agent, authorization' },
      'OPTIONS',
    );
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const allowedHeaders = allowed.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const header of ['x-requested-with', 'x-signalr-user-agent', 'authorization']) expect(allowedHeaders).toContain(header);
    const foreign = await negotiateWith({ Origin: 'https://evil.example.test', 'Access-Control-Request-Method': 'POST' }, 'OPTIONS');
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sets no cookie', async () => {
    const response = await negotiateWith({});
    expect(response.headers.get('set-cookie')).toBeNull();
  });

  it('refuses to start with "*" and credentials', async () => {
    await expect(startHubApp([OpenHub, HubCodeRuns, NotBannedPolicy], { allowedOrigins: ['*'] })).rejects.toThrow(/\*/);
  });
});

describe('credential expiry', () => {
  let server: RunningHubApp;
  let jwt: JwtService;

  beforeAll(async () => {
    server = await startHubApp([OpenHub, PrivateHub, AdminsHub, HubCodeRuns, NotBannedPolicy], { authStrategies: ['jwt'] }, {
      imports: [TestAuthModule],
    });
    jwt = server.app.get(JwtService);
  });

  afterAll(() => server.close());

  it('closes the connection with {"type":7,"allowReconnect":true} when the JWT expires', async () => {
    const headers = { Authorization: `Bearer ${signFor(jwt, 'alice', ['user'], 2)}` };
    const hubUrl = `${server.baseUrl}/hubs/private`;
    const { connectionToken } = await negotiate(hubUrl, { headers });
    const socket = new WebSocket(`${hubUrl.replace('http', 'ws')}?id=${connectionToken}`, { headers });
    const frames: string[] = [];
    socket.on('message', (data: Buffer) => frames.push(data.toString()));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(`{"protocol":"json","version":1}${RS}`);
    const closed = await new Promise<number>((resolve) => socket.once('close', resolve));
    expect(closed).toBe(1000);
    expect(frames.at(-1)).toBe(`{"type":7,"allowReconnect":true}${RS}`);
  });
});
