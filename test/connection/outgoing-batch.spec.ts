import { describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, OutgoingBatch, type Payload } from '../../src/connection/outgoing-batch.js';

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recording(binary: boolean) {
  const frames: { frame: Payload; binary: boolean }[] = [];
  const batch = new OutgoingBatch(binary, { sendBatch: (frame, isBinary) => void frames.push({ frame, binary: isBinary }) });
  return { batch, frames };
}

describe('OutgoingBatch', () => {
  it('sends nothing until the turn ends, then one text frame with every record in order', async () => {
    const { batch, frames } = recording(false);
    batch.add('{"a":1}\u001e');
    await Promise.resolve();
    batch.add('{"b":2}\u001e');
    batch.add('{"c":3}\u001e');
    expect(frames).toEqual([]);
    await endOfTurn();
    expect(frames).toEqual([{ frame: '{"a":1}\u001e{"b":2}\u001e{"c":3}\u001e', binary: false }]);
  });

  it('joins binary messages into one buffer', async () => {
    const { batch, frames } = recording(true);
    batch.add(Uint8Array.of(1, 0x90));
    batch.add(Uint8Array.of(2, 0x91, 0x01));
    await endOfTurn();
    expect(frames).toHaveLength(1);
    expect(frames[0].binary).toBe(true);
    expect([...(frames[0].frame as Uint8Array)]).toEqual([1, 0x90, 2, 0x91, 0x01]);
  });

  it('passes a lone message through untouched (a broadcast payload stays shared)', async () => {
    const { batch, frames } = recording(true);
    const payload = Uint8Array.of(1, 0x90);
    batch.add(payload);
    await endOfTurn();
    expect(frames[0].frame).toBe(payload);
  });

  it('sends each turn separately', async () => {
    const { batch, frames } = recording(false);
    batch.add('1\u001e');
    await endOfTurn();
    batch.add('2\u001e');
    await endOfTurn();
    expect(frames.map((f) => f.frame)).toEqual(['1\u001e', '2\u001e']);
  });

  it('flushes on demand, ahead of whatever the caller writes next', async () => {
    const { batch, frames } = recording(false);
    batch.add('1\u001e');
    batch.flush();
    expect(frames.map((f) => f.frame)).toEqual(['1\u001e']);
    await endOfTurn();
    expect(frames).toHaveLength(1);
  });

  it('sends a batch early rather than growing a frame past the limit', async () => {
    const { batch, frames } = recording(false);
    const big = `${'x'.repeat(MAX_BATCH_BYTES / 2)}\u001e`;
    batch.add(big);
    batch.add(big);
    batch.add('tail\u001e');
    expect(frames.map((f) => f.frame)).toEqual([big]);
    await endOfTurn();
    expect(frames.map((f) => f.frame)).toEqual([big, `${big}tail\u001e`]);
  });

  it('drops what it holds when discarded', async () => {
    const { batch, frames } = recording(false);
    batch.add('old\u001e');
    batch.discard();
    batch.add('new\u001e');
    await endOfTurn();
    expect(frames.map((f) => f.frame)).toEqual(['new\u001e']);
  });
});
