import { Subject, type HubConnection } from '@microsoft/signalr';
import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { connectClient, nextCall } from '../support/client.js';

describe('sample app (contract: sample-app-contract.md)', () => {
  let app: INestApplication;
  let baseUrl: string;
  const open: HubConnection[] = [];
  const connect = async (hub: string) => {
    const connection = await connectClient(`${baseUrl}${hub}`);
    open.push(connection);
    return connection;
  };

  beforeAll(async () => {
    app = await createSampleApp({ logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(open.map((connection) => connection.stop()));
    await app.close();
  });

  it('answers GET /health with 200', async () => {
    const response = await fetch(`${baseUrl}/health`);
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
