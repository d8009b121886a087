import {
  MessageType as ClientMessageType,
  NullLogger,
  TransferFormat,
  type HubMessage as ClientHubMessage,
} from '@microsoft/signalr';
import { MessagePackHubProtocol as ClientMessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { describe, expect, it } from 'vitest';
import type { HubMessage } from '../../src/protocol/hub-message.js';
import { MESSAGEPACK_PING_FRAME, MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';

const server = new MessagePackHubProtocol();
const client = new ClientMessagePackHubProtocol();

/** Exactly the bytes of a view, as the client wants them. */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function clientWrites(message: ClientHubMessage): Buffer {
  return Buffer.from(client.writeMessage(message) as ArrayBuffer);
}

function clientReads(bytes: Uint8Array): ClientHubMessage[] {
  return client.parseMessages(toArrayBuffer(bytes), NullLogger.instance);
}

describe('MessagePack protocol against the official @microsoft/signalr-protocol-msgpack client', () => {
  it('speaks the same protocol name and version', () => {
    expect(server.name).toBe(client.name);
    expect(server.version).toBe(client.version);
    expect(server.transferFormat).toBe(TransferFormat[client.transferFormat]);
  });

  describe('the server reads what the client writes', () => {
    // Shaped the way the client's HubConnection builds them.
    const sent: Array<[string, ClientHubMessage, HubMessage]> = [
      [
        'send()',
        { target: 'Send', arguments: ['hi', { a: [1] }], type: ClientMessageType.Invocation },
        { type: 1, target: 'Send', arguments: ['hi', { a: [1] }] },
      ],
      [
        'invoke()',
        { target: 'Add', arguments: [1, 2], invocationId: '0', type: ClientMessageType.Invocation },
        { type: 1, invocationId: '0', target: 'Add', arguments: [1, 2] },
      ],
      [
        'send() with an upload stream',
        { target: 'Upload', arguments: ['x'], streamIds: ['0'], type: ClientMessageType.Invocation },
        { type: 1, target: 'Upload', arguments: ['x'], streamIds: ['0'] },
      ],
      [
        'invoke() with upload streams',
        { target: 'Upload', arguments: ['x'], invocationId: '1', streamIds: ['2', '3'], type: ClientMessageType.Invocation },
        { type: 1, invocationId: '1', target: 'Upload', arguments: ['x'], streamIds: ['2', '3'] },
      ],
      [
        'invoke() with headers',
        { target: 'Add', arguments: [], invocationId: '4', headers: { trace: 'abc' }, type: ClientMessageType.Invocation },
        { type: 1, invocationId: '4', target: 'Add', arguments: [], headers: { trace: 'abc' } },
      ],
      [
        'stream()',
        { target: 'Counter', arguments: [3], invocationId: '3', type: ClientMessageType.StreamInvocation },
        { type: 4, invocationId: '3', target: 'Counter', arguments: [3] },
      ],
      [
        'stream() with an upload stream',
        { target: 'Echo', arguments: [], invocationId: '5', streamIds: ['6'], type: ClientMessageType.StreamInvocation },
        { type: 4, invocationId: '5', target: 'Echo', arguments: [], streamIds: ['6'] },
      ],
      [
        'an upload stream item',
        { invocationId: '2', item: { n: 1 }, type: ClientMessageType.StreamItem },
        { type: 2, invocationId: '2', item: { n: 1 } },
      ],
      [
        'an upload stream item of null',
        { invocationId: '2', item: null, type: ClientMessageType.StreamItem },
        { type: 2, invocationId: '2', item: null },
      ],
      [
        'the end of an upload stream (void completion)',
        { invocationId: '2', type: ClientMessageType.Completion },
        { type: 3, invocationId: '2' },
      ],
      [
        'an upload stream that failed',
        { invocationId: '2', error: 'Stream broke', type: ClientMessageType.Completion },
        { type: 3, invocationId: '2', error: 'Stream broke' },
      ],
      [
        'a client result',
        { invocationId: '7', result: { answer: 42 }, type: ClientMessageType.Completion },
        { type: 3, invocationId: '7', result: { answer: 42 }, hasResult: true },
      ],
      [
        'a client result of null',
        { invocationId: '7', result: null, type: ClientMessageType.Completion },
        { type: 3, invocationId: '7', result: null, hasResult: true },
      ],
      [
        'a cancelled stream',
        { invocationId: '3', type: ClientMessageType.CancelInvocation },
        { type: 5, invocationId: '3' },
      ],
      ['a ping', { type: ClientMessageType.Ping }, { type: 6 }],
      ['stop() (the client drops error and allowReconnect)', { type: ClientMessageType.Close, error: 'x' }, { type: 7 }],
      ['an ack', { sequenceId: 12, type: ClientMessageType.Ack }, { type: 8, sequenceId: 12 }],
      ['a sequence', { sequenceId: 2 ** 33, type: ClientMessageType.Sequence }, { type: 9, sequenceId: 2 ** 33 }],
    ];

    it.each(sent)('%s', (_name, clientMessage, expected) => {
      expect(server.parseMessages(clientWrites(clientMessage))).toStrictEqual([expected]);
    });

    it('reads every client message from one frame', () => {
      const frame = Buffer.concat(sent.map(([, clientMessage]) => clientWrites(clientMessage)));
      expect(server.parseMessages(frame)).toStrictEqual(sent.map(([, , expected]) => expected));
    });

    it('reads binaries, dates, big numbers and undefined as the client encodes them', () => {
      const bytes = new Uint8Array([0, 1, 254, 255]);
      const frame = clientWrites({
        target: 'Put',
        arguments: [bytes, new Date(1_700_000_000_000), 2 ** 40, -(2 ** 40), 0.25, undefined, { u: undefined }],
        invocationId: '1',
        type: ClientMessageType.Invocation,
      });
      const [message] = server.parseMessages(frame) as unknown as [{ arguments: unknown[] }];
      expect(message.arguments).toStrictEqual([
        bytes,
        new Date(1_700_000_000_000),
        2 ** 40,
        -(2 ** 40),
        0.25,
        null,
        { u: null },
      ]);
    });
  });

  describe('the client reads what the server writes', () => {
    const written: Array<[string, HubMessage, ClientHubMessage]> = [
      [
        'send() to a client',
        { type: 1, target: 'ReceiveMessage', arguments: ['general', 'hi', { n: [1] }] },
        { type: 1, target: 'ReceiveMessage', arguments: ['general', 'hi', { n: [1] }], headers: {}, streamIds: [] },
      ],
      [
        'a client result request',
        { type: 1, invocationId: '9', target: 'GetMessage', arguments: [] },
        { type: 1, invocationId: '9', target: 'GetMessage', arguments: [], headers: {}, streamIds: [] },
      ],
      [
        'an invocation with headers',
        { type: 1, target: 'T', arguments: [], headers: { h: 'v' } },
        { type: 1, target: 'T', arguments: [], headers: { h: 'v' }, streamIds: [] },
      ],
      [
        'a stream item',
        { type: 2, invocationId: '3', item: 7 },
        { type: 2, invocationId: '3', item: 7, headers: {} },
      ],
      [
        'a stream item of undefined',
        { type: 2, invocationId: '3', item: undefined },
        { type: 2, invocationId: '3', item: null, headers: {} },
      ],
      [
        'a result',
        { type: 3, invocationId: '0', result: 3, hasResult: true },
        { type: 3, invocationId: '0', result: 3, headers: {} },
      ],
      [
        'a null result',
        { type: 3, invocationId: '0', result: null, hasResult: true },
        { type: 3, invocationId: '0', result: null, headers: {} },
      ],
      ['a void completion', { type: 3, invocationId: '1' }, { type: 3, invocationId: '1', headers: {} }],
      [
        'an error',
        { type: 3, invocationId: '2', error: 'Boom' },
        { type: 3, invocationId: '2', error: 'Boom', headers: {} },
      ],
      ['a ping', { type: 6 }, { type: 6 }],
      ['a plain close', { type: 7 }, { type: 7, error: null as unknown as undefined, allowReconnect: false }],
      [
        'a close with error and reconnect',
        { type: 7, error: 'Server shutting down', allowReconnect: true },
        { type: 7, error: 'Server shutting down', allowReconnect: true },
      ],
      ['an ack', { type: 8, sequenceId: 5 }, { type: 8, sequenceId: 5 }],
      ['a sequence', { type: 9, sequenceId: 2 ** 40 }, { type: 9, sequenceId: 2 ** 40 }],
    ];

    it.each(written)('%s', (_name, message, expected) => {
      expect(clientReads(server.writeMessage(message))).toEqual([expected]);
    });

    it('reads every server message from one frame', () => {
      const frame = Buffer.concat(written.map(([, message]) => server.writeMessage(message)));
      expect(clientReads(frame)).toEqual(written.map(([, , expected]) => expected));
    });

    it('writes byte for byte what the client writes, where the layouts coincide', () => {
      const same: ClientHubMessage[] = [
        { invocationId: '3', item: { n: [1, 'x'] }, type: ClientMessageType.StreamItem },
        { invocationId: '1', type: ClientMessageType.Completion },
        { invocationId: '1', error: 'e', type: ClientMessageType.Completion },
        { invocationId: '1', result: [true, null], type: ClientMessageType.Completion },
        { invocationId: '1', type: ClientMessageType.CancelInvocation },
        { type: ClientMessageType.Ping },
        { sequenceId: 300, type: ClientMessageType.Ack },
        { sequenceId: 2 ** 35, type: ClientMessageType.Sequence },
        {
          target: 'T',
          arguments: [1],
          invocationId: '2',
          streamIds: ['3'],
          type: ClientMessageType.StreamInvocation,
        },
      ];
      for (const message of same) {
        const ours = server.writeMessage({ ...(message as object), hasResult: 'result' in message } as HubMessage);
        expect(Buffer.from(ours).toString('hex')).toBe(clientWrites(message).toString('hex'));
      }
      expect(Buffer.from(MESSAGEPACK_PING_FRAME).toString('hex')).toBe(
        clientWrites({ type: ClientMessageType.Ping }).toString('hex'),
      );
    });

    it('sends binaries, dates and nested values the client decodes alike', () => {
      const payload = new Uint8Array(300).map((_, i) => i % 256);
      const item = { bytes: payload, pooled: Buffer.from('xyz'), when: new Date(86_400_000), list: [1.5, -3, 'ü', [null]] };
      const [message] = clientReads(server.writeMessage({ type: 2, invocationId: '1', item })) as unknown as [{ item: Record<string, unknown> }];
      expect(message.item.bytes).toEqual(payload);
      expect(Array.from(message.item.pooled as Uint8Array)).toEqual([0x78, 0x79, 0x7a]);
      expect(message.item.when).toEqual(new Date(86_400_000));
      expect(message.item.list).toEqual([1.5, -3, 'ü', [null]]);
    });

    it('round-trips a binary payload: client to server to client', () => {
      const bytes = new Uint8Array([9, 8, 7, 0, 255]);
      const [invocation] = server.parseMessages(
        clientWrites({ target: 'Echo', arguments: [bytes], invocationId: '1', type: ClientMessageType.Invocation }),
      ) as unknown as [{ arguments: [Uint8Array] }];
      const [completion] = clientReads(
        server.writeMessage({ type: 3, invocationId: '1', result: invocation.arguments[0], hasResult: true }),
      ) as unknown as [{ result: Uint8Array }];
      expect(completion.result).toEqual(bytes);
    });
  });
});
