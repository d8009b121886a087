import { JwtService } from '@nestjs/jwt';
import 'reflect-metadata';
import { afterAll, bench, describe } from 'vitest';
import { WebSocket } from 'ws';
import { startHubApp, type RunningHubApp } from '../test/support/hub-app.js';
import { signFor, TestAuthModule } from '../test/support/jwt-auth.js';
import { RS } from '../test/support/raw-client.js';
import { HubCodeRuns, PrivateHub } from '../test/security/security-hubs.js';

// One full admission as a Node client does it: authenticated negotiate, authenticated upgrade
// with the sealed token, JSON handshake, close. Client and server share this process.
const server: RunningHubApp = await startHubApp([PrivateHub, HubCodeRuns], { authStrategies: ['jwt'] }, { imports: [TestAuthModule] });
const headers = { Authorization: `Bearer ${signFor(server.app.get(JwtService), 'alice')}` };
const hubUrl = `${server.baseUrl}/hubs/private`;

async function negotiateAndConnect(): Promise<void> {
  const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1`, { method: 'POST', headers });
  const { connectionToken } = (await response.json()) as { connectionToken: string };
  const socket = new WebSocket(`${hubUrl.replace('http', 'ws')}?id=${connectionToken}`, { headers });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(`{"protocol":"json","version":1}${RS}`));
    socket.once('message', () => resolve());
    socket.once('error', reject);
  });
  socket.close();
}

describe('negotiate + connect with JWT authentication', () => {
  afterAll(() => server.close());

  bench('negotiate + upgrade + handshake', negotiateAndConnect, { time: 3000 });
});
