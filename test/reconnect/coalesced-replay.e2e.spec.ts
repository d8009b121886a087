import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { RawHubSocket, RS } from '../support/raw-client.js';
import { HubEvents, TestHub } from '../e2e/test-hubs.js';

const adds = (ids: number[]) => ids.map((n) => `{"type":1,"invocationId":"${n}","target":"Add","arguments":[${n},0]}${RS}`).join('');
const completions = (ids: number[]) => ids.map((n) => ({ type: 3, invocationId: String(n), result: n }));
const parse = (frame: string) => frame.split(RS).filter(Boolean).map((text) => JSON.parse(text) as Record<string, unknown>);
// The server acknowledges the client's messages on its own schedule (a ticker); those Acks are beside the point.
const withoutAcks = (messages: Record<string, unknown>[]) => messages.filter((message) => message.type !== 8);

/** The first frame a resumed socket receives (Sequence, then the replay), without Acks. */
async function firstFrameOn(socket: RawHubSocket): Promise<Record<string, unknown>[]> {
  await socket.until(() => withoutAcks(socket.frames.flatMap(parse)).length > 0);
  return withoutAcks(parse(socket.frames.find((frame) => withoutAcks(parse(frame)).length > 0)!));
}

/**
 * Completions that shared a frame are still numbered one by one for stateful reconnect: a new
 * socket gets exactly the ones the client has not acknowledged, from the right sequence id.
 */
describe('stateful reconnect with coalesced frames (raw socket)', () => {
  let server: RunningHubApp;
  let hubUrl: string;

  beforeAll(async () => {
    server = await startHubApp([TestHub, HubEvents]);
    hubUrl = `${server.baseUrl}/hubs/test`;
  });

  afterAll(() => server.close());

  async function resumeWith(token: string): Promise<Record<string, unknown>[]> {
    const socket = await RawHubSocket.open(hubUrl, token);
    const first = await firstFrameOn(socket);
    socket.socket.terminate();
    await socket.closed;
    return first;
  }

  it('replays per message, from the first unacknowledged one, in order', async () => {
    const response = await fetch(`${hubUrl}/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' });
    const { connectionToken } = (await response.json()) as { connectionToken: string };
    const raw = await RawHubSocket.open(hubUrl, connectionToken);
    raw.send(`{"protocol":"json","version":2}${RS}`);
    await raw.nextFrame();

    raw.send(adds([1, 2, 3, 4]));
    await raw.until(() => raw.messages().filter((m) => m.type === 3).length === 4);
    expect(raw.frames.slice(1).map(parse).map(withoutAcks).filter((messages) => messages.length > 0)).toEqual([completions([1, 2, 3, 4])]);
    // The client acknowledges the first two, then loses its socket.
    raw.send(`{"type":8,"sequenceId":2}${RS}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    raw.socket.terminate();
    await raw.closed;

    expect(await resumeWith(connectionToken)).toEqual([{ type: 9, sequenceId: 3 }, ...completions([3, 4])]);

    const again = await RawHubSocket.open(hubUrl, connectionToken);
    expect(await firstFrameOn(again)).toEqual([{ type: 9, sequenceId: 3 }, ...completions([3, 4])]);
    // The reconnected client announces its own next id, acknowledges everything and goes on.
    again.send(`{"type":9,"sequenceId":5}${RS}{"type":8,"sequenceId":4}${RS}${adds([5, 6])}`);
    await again.until(() => again.messages().some((m) => m.invocationId === '6'));
    expect(withoutAcks(again.messages()).slice(3)).toEqual(completions([5, 6]));
    again.socket.terminate();
    await again.closed;
    expect(await resumeWith(connectionToken)).toEqual([{ type: 9, sequenceId: 5 }, ...completions([5, 6])]);
  });
});
