import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturingLogger } from '../support/capturing-logger.js';
import type { RunningHubApp } from '../support/hub-app.js';
import {
  afterNewToken,
  bearer,
  connectionTokenOf,
  isInRoom,
  jwt,
  rawResume,
  resumableClient,
  resumeUrl,
  startNode,
} from './resumption-support.js';
import { signFor } from '../support/jwt-auth.js';

describe('group limits of resumable connections', () => {
  let roomy: RunningHubApp;
  let strict: RunningHubApp;
  const log = new CapturingLogger();

  beforeAll(async () => {
    // A node may allow more groups than another, during a configuration change for instance.
    [roomy, strict] = await Promise.all([startNode({ maximumGroupsPerConnection: 4 }), startNode({ maximumGroupsPerConnection: 2 })]);
  });

  // Creating an application resets Nest's global logger, so the capture is set again each time.
  beforeEach(() => strict.app.useLogger(log));

  afterAll(async () => {
    await Promise.all([roomy?.close(), strict?.close()]);
  });

  it('rejoins at most maximumGroupsPerConnection groups on the node it resumes on, and logs the rest dropped', async () => {
    const client = await resumableClient(`${roomy.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'alice'));
    for (const room of ['first', 'second']) await afterNewToken(client, () => client.connection.invoke('Join', room));
    const token = await afterNewToken(client, () => client.connection.invoke('Join', 'third'));

    const raw = await rawResume(resumeUrl(strict, connectionTokenOf(client), token), bearer('alice'));
    expect(raw.socket.readyState).toBe(raw.socket.OPEN);
    expect(await isInRoom(strict, 'first', raw)).toBe(true);
    expect(await isInRoom(strict, 'second', raw)).toBe(true);
    expect(await isInRoom(strict, 'third', raw)).toBe(false);
    expect(log.text()).toContain('in more groups than maximumGroupsPerConnection; 1 of its 3 groups were dropped');
    raw.socket.terminate();
    await client.connection.stop();
  });

  it('warns once per connection that its groups do not fit in a groups token, however often they do not', async () => {
    const client = await resumableClient(`${roomy.baseUrl}/hubs/rooms`, 'json', () => signFor(jwt, 'bob'));
    // Two names of 1,000 characters fit in a token (at most 4,096 characters); three do not.
    const [one, two, three, four] = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(1_000));
    for (const room of [one, two]) await afterNewToken(client, () => client.connection.invoke('Join', room));
    // Each change below asks for a token that does not fit...
    for (const room of [three, four]) await client.connection.invoke('Join', room);
    await client.connection.invoke('Leave', four);
    // ...until this one: its token arriving means every earlier attempt was made.
    await afterNewToken(client, () => client.connection.invoke('Leave', three));
    const warnings = log.lines.filter((line) => line.includes('do not fit in a groups token'));
    expect(warnings).toEqual([expect.stringContaining('The 3 groups of a connection do not fit in a groups token')]);
    await client.connection.stop();
  });
});
