import { Subject } from '@microsoft/signalr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { ClientPool, nextCall } from '../support/client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';

describe('sample app (contract: sample-app-contract.md)', () => {
  let server: RunningHubApp;
  const clients = new ClientPool();
  const connect = (hub: string) => clients.connect(`${server.baseUrl}${hub}`);

  beforeAll(async () => {
    server = await listenOnLoopback(await createSampleApp({ logger: false }));
  });

  afterAll(async () => {
    await clients.stopAll();
    await server.close();
  });

  it('answers GET /health with 200', async () => {
    const response = await fetch(`${server.baseUrl}/health`);
    expect(response.status).toBe(200);
  });

  it('/hubs/public: Ping answers pong to anyone', async () => {
    const client = await connect('/hubs/public');
    await expect(client.invoke('Ping')).resolves.toBe('pong');
  });

  it('/hubs/chat: rooms check names and membership on the server', async () => {
    const alice = await connect('/hubs/chat');
    const bob = await connect('/hubs/chat');
    await expect(alice.invoke('JoinRoom', 'Bad Name!')).rejects.toThrow('HubException');
    await expect(alice.invoke('JoinRoom', 'admins')).rejects.toThrow('not allowed');
    await expect(bob.invoke('SendToRoom', 'general', 'hi')).rejects.toThrow('not a member');
    await alice.invoke('JoinRoom', 'general');
    await bob.invoke('JoinRoom', 'general');
    const received = nextCall(bob, 'ReceiveMessage');
    await alice.invoke('SendToRoom', 'general', 'hello');
    const [room, , text] = await received;
    expect([room, text]).toEqual(['general', 'hello']);
    await bob.invoke('LeaveRoom', 'general');
    await expect(bob.invoke('SendToRoom', 'general', 'again')).rejects.toThrow('not a member');
  });

  it('/hubs/chat: Echo validates its payload and names the broken field, never its value', async () => {
    const client = await connect('/hubs/chat');
    await expect(client.invoke('Echo', { text: 'hi there' })).resolves.toBe('hi there');
    const error = (await client.invoke('Echo', { text: '' }).catch((e: Error) => e)) as Error;
    expect(error.message).toContain('text');
    const long = 'y'.repeat(501);
    const tooLong = (await client.invoke('Echo', { text: long }).catch((e: Error) => e)) as Error;
    expect(tooLong.message).toContain('text');
    expect(tooLong.message).not.toContain(long);
  });

  it('/hubs/chat: Fail shows only the generic text', async () => {
    const client = await connect('/hubs/chat');
    const error = (await client.invoke('Fail').catch((e: Error) => e)) as Error;
    expect(error.message).toBe("An unexpected error occurred invoking 'Fail' on the server.");
  });

  it('/hubs/chat: Counter streams and Sum adds an upload stream', async () => {
    const client = await connect('/hubs/chat');
    const items: number[] = [];
    await new Promise<void>((resolve, reject) =>
      client.stream<number>('Counter', 4, 1).subscribe({ next: (n) => items.push(n), complete: resolve, error: reject }),
    );
    expect(items).toEqual([0, 1, 2, 3]);
    const numbers = new Subject<number>();
    const sum = client.invoke('Sum', numbers);
    [5, 6, 7].forEach((n) => numbers.next(n));
    numbers.complete();
    await expect(sum).resolves.toBe(18);
  });
});
