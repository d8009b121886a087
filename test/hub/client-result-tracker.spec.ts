import { describe, expect, it } from 'vitest';
import { SignalRError, SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { ClientResultTracker } from '../../src/hub/client-result-tracker.js';
import { MessageType } from '../../src/protocol/hub-message.js';

describe('ClientResultTracker', () => {
  it("rejects with the client's error text as it sent it, the code kept as a property, as ASP.NET Core surfaces it", async () => {
    const tracker = new ClientResultTracker(30_000);
    const { invocationId, result } = tracker.begin('Result');
    expect(tracker.complete({ type: MessageType.Completion, invocationId, error: 'Error: from callback' })).toBe(true);
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SignalRError);
    expect(error).toMatchObject({ message: 'Error: from callback', code: SignalRErrorCode.ClientResultFailed });
  });

  it("resolves with the client's result, and ignores a completion for an id it did not send", async () => {
    const tracker = new ClientResultTracker(30_000);
    const { invocationId, result } = tracker.begin('Result');
    expect(tracker.complete({ type: MessageType.Completion, invocationId: 'unknown', result: 1, hasResult: true })).toBe(false);
    tracker.complete({ type: MessageType.Completion, invocationId, result: 10, hasResult: true });
    await expect(result).resolves.toBe(10);
  });

  it('keeps the code in the message of its own errors', async () => {
    const tracker = new ClientResultTracker(30_000);
    const { result } = tracker.begin('Result');
    tracker.cancelAll();
    await expect(result).rejects.toMatchObject({
      message: 'The connection closed before the client answered. (SIGNALR_CONNECTION_CLOSED)',
      code: SignalRErrorCode.ConnectionClosed,
    });
  });
});
