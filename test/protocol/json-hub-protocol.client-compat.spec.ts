import {
  JsonHubProtocol as ClientJsonHubProtocol,
  MessageType as ClientMessageType,
  NullLogger,
  type HubMessage as ClientHubMessage,
} from '@microsoft/signalr';
import { describe, expect, it } from 'vitest';
import { MessageType, type HubMessage } from '../../src/protocol/hub-message.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';

const server = new JsonHubProtocol();
const client = new ClientJsonHubProtocol();

function clientReads(text: string): ClientHubMessage[] {
  return client.parseMessages(text, NullLogger.instance);
}

describe('JSON protocol against the official @microsoft/signalr client', () => {
  it('uses the numbering of the client', () => {
    expect(ClientMessageType.Invocation).toBe(MessageType.Invocation);
    expect(ClientMessageType.StreamItem).toBe(MessageType.StreamItem);
    expect(ClientMessageType.Completion).toBe(MessageType.Completion);
    expect(ClientMessageType.StreamInvocation).toBe(MessageType.StreamInvocation);
    expect(ClientMessageType.CancelInvocation).toBe(MessageType.CancelInvocation);
    expect(ClientMessageType.Ping).toBe(MessageType.Ping);
    expect(ClientMessageType.Close).toBe(MessageType.Close);
    expect(ClientMessageType.Ack).toBe(MessageType.Ack);
    expect(ClientMessageType.Sequence).toBe(MessageType.Sequence);
  });

  describe('the server reads what the client writes', () => {
    // Shaped the way the client's HubConnection builds them, key order included.
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
        'invoke() with an upload stream',
        { target: 'Upload', arguments: ['x'], invocationId: '1', streamIds: ['2'], type: ClientMessageType.Invocation },
        { type: 1, invocationId: '1', target: 'Upload', arguments: ['x'], streamIds: ['2'] },
      ],
      [
        'stream()',
        { target: 'Counter', arguments: [3], invocationId: '3', type: ClientMessageType.StreamInvocation },
        { type: 4, invocationId: '3', target: 'Counter', arguments: [3] },
      ],
      [
        'an upload stream item',
        { invocationId: '2', item: { n: 1 }, type: ClientMessageType.StreamItem },
        { type: 2, invocationId: '2', item: { n: 1 } },
      ],
      [
        'the end of an upload stream',
        { invocationId: '2', result: undefined, type: ClientMessageType.Completion },
        { type: 3, invocationId: '2' },
      ],
      [
        'an upload stream that failed',
        { error: 'stream broke', invocationId: '2', type: ClientMessageType.Completion },
        { type: 3, invocationId: '2', error: 'stream broke' },
      ],
      [
        'a client result',
        { invocationId: '7', result: { ok: true }, type: ClientMessageType.Completion },
        { type: 3, invocationId: '7', result: { ok: true }, hasResult: true },
      ],
      [
        'a null client result',
        { invocationId: '7', result: null, type: ClientMessageType.Completion },
        { type: 3, invocationId: '7', result: null, hasResult: true },
      ],
      ['a stream cancellation', { invocationId: '3', type: ClientMessageType.CancelInvocation }, { type: 5, invocationId: '3' }],
      ['a ping', { type: ClientMessageType.Ping }, { type: 6 }],
      ['a close', { type: ClientMessageType.Close }, { type: 7 }],
      ['an ack', { sequenceId: 4, type: ClientMessageType.Ack }, { type: 8, sequenceId: 4 }],
      ['a sequence', { sequenceId: 1, type: ClientMessageType.Sequence }, { type: 9, sequenceId: 1 }],
    ];

    it.each(sent)('%s', (_, clientMessage, expected) => {
      const frame = Buffer.from(client.writeMessage(clientMessage) as string);
      expect(server.parseMessages(frame)).toStrictEqual([expected]);
    });

    it('gets a date as the text the client wrote (JSON has no dates), which comes back in ASP.NET Core\'s form once the hub made it a Date', () => {
      const sentDate = new Date(Date.UTC(2002, 3, 1, 10, 20, 15));
      const frame = Buffer.from(client.writeMessage({ target: 'Echo', arguments: [sentDate], type: ClientMessageType.Invocation }) as string);
      expect(server.parseMessages(frame)).toStrictEqual([{ type: 1, target: 'Echo', arguments: ['2002-04-01T10:20:15.000Z'] }]);
      const answer = server.writeMessage({ type: 3, invocationId: '0', result: new Date('2002-04-01T10:20:15.000Z'), hasResult: true });
      expect(clientReads(answer)).toStrictEqual([{ type: ClientMessageType.Completion, invocationId: '0', result: '2002-04-01T10:20:15Z' }]);
    });

    it('all of them batched in one frame', () => {
      const text = sent.map(([, clientMessage]) => client.writeMessage(clientMessage) as string).join('');
      expect(server.parseMessages(Buffer.from(text))).toStrictEqual(sent.map(([, , expected]) => expected));
    });
  });

  describe('the client reads what the server writes', () => {
    // The client parses only what a server may send it and skips the rest.
    const written: Array<[string, HubMessage, ClientHubMessage]> = [
      [
        'a call to a client handler',
        { type: 1, target: 'receive', arguments: ['a', 1, null] },
        { type: ClientMessageType.Invocation, target: 'receive', arguments: ['a', 1, null] },
      ],
      [
        'a call that wants a client result',
        { type: 1, invocationId: '9', target: 'ask', arguments: [] },
        { type: ClientMessageType.Invocation, invocationId: '9', target: 'ask', arguments: [] },
      ],
      [
        'a stream item',
        { type: 2, invocationId: '3', item: [1, 2] },
        { type: ClientMessageType.StreamItem, invocationId: '3', item: [1, 2] },
      ],
      [
        'a completion with a result',
        { type: 3, invocationId: '0', result: 3, hasResult: true },
        { type: ClientMessageType.Completion, invocationId: '0', result: 3 },
      ],
      [
        'a void completion',
        { type: 3, invocationId: '0', hasResult: true },
        { type: ClientMessageType.Completion, invocationId: '0', result: null },
      ],
      [
        'a completion with an error',
        { type: 3, invocationId: '0', error: 'Failed' },
        { type: ClientMessageType.Completion, invocationId: '0', error: 'Failed' },
      ],
      ['the end of a stream', { type: 3, invocationId: '3' }, { type: ClientMessageType.Completion, invocationId: '3' }],
      ['a ping', { type: 6 }, { type: ClientMessageType.Ping }],
      ['a close', { type: 7 }, { type: ClientMessageType.Close }],
      [
        'a close with an error',
        { type: 7, error: 'Connection closed with an error.', allowReconnect: true },
        { type: ClientMessageType.Close, error: 'Connection closed with an error.', allowReconnect: true },
      ],
      ['an ack', { type: 8, sequenceId: 2 }, { type: ClientMessageType.Ack, sequenceId: 2 }],
      ['a sequence', { type: 9, sequenceId: 1 }, { type: ClientMessageType.Sequence, sequenceId: 1 }],
    ];

    it.each(written)('%s', (_, message, expected) => {
      expect(clientReads(server.writeMessage(message))).toStrictEqual([expected]);
    });

    it('all of them batched in one frame', () => {
      const text = written.map(([, message]) => server.writeMessage(message)).join('');
      expect(clientReads(text)).toStrictEqual(written.map(([, , expected]) => expected));
    });

    it('gets bytes as base64 text and dates as ASP.NET Core writes them, as their functional tests expect', () => {
      const message: HubMessage = {
        type: 3,
        invocationId: '0',
        result: { ByteArray: new Uint8Array([1, 2, 3]), DateTime: new Date(Date.UTC(2000, 0, 1)) },
        hasResult: true,
      };
      expect(clientReads(server.writeMessage(message))).toStrictEqual([
        { type: ClientMessageType.Completion, invocationId: '0', result: { ByteArray: 'AQID', DateTime: '2000-01-01T00:00:00Z' } },
      ]);
    });

    it.each<[string, HubMessage]>([
      ['stream invocations', { type: 4, invocationId: '1', target: 'A', arguments: [] }],
      ['cancellations', { type: 5, invocationId: '1' }],
    ])('skips %s, which only servers receive, without failing', (_, message) => {
      expect(clientReads(server.writeMessage(message))).toStrictEqual([]);
    });
  });
});
