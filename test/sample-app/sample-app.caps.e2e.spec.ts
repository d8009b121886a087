import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { CONNECTION_CAPS } from '../../sample-app/config.js';
import { ClientPool } from '../support/client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { sampleTokenOf } from '../support/sample-login.js';

describe('sample app connection caps (README: the sample sets them)', () => {
  let server: RunningHubApp;
  const clients = new ClientPool();
  const tokenOf = (username: string) => sampleTokenOf(server.baseUrl, username);

  beforeAll(async () => {
    server = await listenOnLoopback(await createSampleApp({ logger: false }));
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('leave the room the contract promises: 19,000 connections from one address, 100 of one user', () => {
    expect(CONNECTION_CAPS.maximumConnectionsPerAddress).toBeGreaterThanOrEqual(19_000);
    expect(CONNECTION_CAPS.maximumConnections).toBeGreaterThanOrEqual(CONNECTION_CAPS.maximumConnectionsPerAddress);
    expect(CONNECTION_CAPS.maximumConnectionsPerUser).toBeGreaterThanOrEqual(100);
  });

  it("refuse a user's connection one past maximumConnectionsPerUser, on either hub, and nobody else's", async () => {
    const alice = await tokenOf('alice');
    const asAlice = { accessTokenFactory: () => alice };
    const hubs = ['/hubs/chat', '/hubs/public'];
    for (let opened = 0; opened < CONNECTION_CAPS.maximumConnectionsPerUser; opened += 20) {
      const batch = Math.min(20, CONNECTION_CAPS.maximumConnectionsPerUser - opened);
      await Promise.all(Array.from({ length: batch }, (_, i) => clients.connect(`${server.baseUrl}${hubs[(opened + i) % 2]}`, asAlice)));
    }
    for (const hub of hubs) {
      await expect(clients.connect(`${server.baseUrl}${hub}`, asAlice)).rejects.toThrow(
        "Too many connections for this user.: Status code '429'",
      );
    }
    const bob = await tokenOf('bob');
    const other = await clients.connect(`${server.baseUrl}/hubs/chat`, { accessTokenFactory: () => bob });
    await expect(other.invoke('Whoami')).resolves.toMatchObject({ name: 'bob' });
  });
});
