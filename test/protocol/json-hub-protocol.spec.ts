import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, type HubMessage } from '../../src/protocol/hub-message.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { MAX_INVOCATION_ID_LENGTH } from '../../src/protocol/message-fields.js';
import { ProtocolError } from '../../src/protocol/protocol-error.js';
import { frameOf } from './frames.js';

const RS = '\u001e';
const protocol = new JsonHubProtocol();

function parseOne(json: string, parser = protocol): HubMessage | undefined {
  const messages = parser.parseMessages(frameOf(json));
  expect(messages.length).toBeLessThanOrEqual(1);
  return messages[0];
}

/** Arguments holding `levels` arrays inside one another, inside an Invocation (itself two levels). */
function invocationNested(levels: number): string {
  return `{"type":1,"target":"Echo","arguments":[${'['.repeat(levels)}${']'.repeat(levels)}]}`;
}

describe('JsonHubProtocol', () => {
  // Built in the test: the module's shared protocol was built before any test ran, outside every test's coverage.
  it('describes itself as json version 2 (stateful reconnect) over text frames', () => {
    const fresh = new JsonHubProtocol();
    expect(fresh.name).toBe('json');
    expect(fresh.version).toBe(2);
    expect(fresh.transferFormat).toBe('Text');
  });

  it('refuses a depth limit that is not a positive integer, and takes 1', () => {
    expect(() => new JsonHubProtocol({ maxDepth: 0 })).toThrow(new RangeError('maxDepth must be a positive integer, got 0.'));
    expect(() => new JsonHubProtocol({ maxDepth: 2.5 })).toThrow(RangeError);
    expect(new JsonHubProtocol({ maxDepth: 1 }).parseMessages(Buffer.from(`{"type":6}${RS}`))).toEqual([{ type: 6 }]);
  });

  it('applies the size limit to each record, whatever the frame holding them weighs', () => {
    const limited = new JsonHubProtocol({ maxMessageSize: 48 });
    const ping = '{"type":6}';
    const fits = `{"type":1,"target":"T","arguments":["${'é'.repeat(4)}"]}`;
    expect(Buffer.byteLength(fits)).toBe(48);
    expect(limited.parseMessages(frameOf(...Array<string>(10).fill(ping), fits))).toHaveLength(11);
    // One byte over (a two-byte character counts as two), first, in the middle or last.
    const over = fits.replace('éé', 'éé1');
    for (const records of [[over, ping], [ping, over, ping], [ping, ping, ping, over]]) {
      expect(() => limited.parseMessages(frameOf(...records))).toThrow(
        new ProtocolError('Message of 49 bytes exceeds the maximum message size.'),
      );
    }
  });

  it('measures a last record without its separator too, then finds it incomplete', () => {
    const limited = new JsonHubProtocol({ maxMessageSize: 10 });
    const ping = '{"type":6}';
    expect(() => limited.parseMessages(Buffer.from(`${ping}${RS}${ping}`))).toThrow(new ProtocolError('Message is incomplete.'));
    expect(() => limited.parseMessages(Buffer.from(`${ping}${RS}${ping} `))).toThrow(
      new ProtocolError('Message of 11 bytes exceeds the maximum message size.'),
    );
  });

  describe('golden messages, read and written alike', () => {
    const longId = 'i'.repeat(MAX_INVOCATION_ID_LENGTH);
    const golden: Array<[string, string, HubMessage]> = [
      ['send() invocation', '{"type":1,"target":"Send","arguments":["a",1]}', { type: 1, target: 'Send', arguments: ['a', 1] }],
      [
        'invoke() invocation',
        '{"type":1,"invocationId":"0","target":"Add","arguments":[1,2]}',
        { type: 1, invocationId: '0', target: 'Add', arguments: [1, 2] },
      ],
      [
        'invocation with upload streams',
        '{"type":1,"invocationId":"1","target":"Upload","arguments":[],"streamIds":["2","3"]}',
        { type: 1, invocationId: '1', target: 'Upload', arguments: [], streamIds: ['2', '3'] },
      ],
      [
        'invocation with headers',
        '{"type":1,"headers":{"trace":"abc"},"target":"Send","arguments":[]}',
        { type: 1, headers: { trace: 'abc' }, target: 'Send', arguments: [] },
      ],
      [
        'invocation with the longest id allowed',
        `{"type":1,"invocationId":"${longId}","target":"Send","arguments":[]}`,
        { type: 1, invocationId: longId, target: 'Send', arguments: [] },
      ],
      [
        'invocation with non-ASCII text',
        '{"type":1,"target":"Send","arguments":["héllo 😀 ✓"]}',
        { type: 1, target: 'Send', arguments: ['héllo 😀 ✓'] },
      ],
      [
        'stream invocation',
        '{"type":4,"invocationId":"5","target":"Counter","arguments":[10,{"delay":5}]}',
        { type: 4, invocationId: '5', target: 'Counter', arguments: [10, { delay: 5 }] },
      ],
      [
        'stream invocation with upload streams',
        '{"type":4,"invocationId":"5","target":"Echo","arguments":[],"streamIds":["6"]}',
        { type: 4, invocationId: '5', target: 'Echo', arguments: [], streamIds: ['6'] },
      ],
      ['stream item', '{"type":2,"invocationId":"5","item":{"n":1}}', { type: 2, invocationId: '5', item: { n: 1 } }],
      ['null stream item', '{"type":2,"invocationId":"5","item":null}', { type: 2, invocationId: '5', item: null }],
      [
        'completion with a result',
        '{"type":3,"invocationId":"0","result":3}',
        { type: 3, invocationId: '0', result: 3, hasResult: true },
      ],
      [
        'completion with a null result (a void method)',
        '{"type":3,"invocationId":"0","result":null}',
        { type: 3, invocationId: '0', result: null, hasResult: true },
      ],
      ['completion with an error', '{"type":3,"invocationId":"0","error":"boom"}', { type: 3, invocationId: '0', error: 'boom' }],
      ['completion without result (an upload stream ends)', '{"type":3,"invocationId":"2"}', { type: 3, invocationId: '2' }],
      ['cancel invocation', '{"type":5,"invocationId":"5"}', { type: 5, invocationId: '5' }],
      ['ping', '{"type":6}', { type: 6 }],
      ['close', '{"type":7}', { type: 7 }],
      ['close with an error', '{"type":7,"error":"Connection closed with an error."}', { type: 7, error: 'Connection closed with an error.' }],
      [
        'close with an error and reconnect allowed',
        '{"type":7,"error":"Connection closed with an error.","allowReconnect":true}',
        { type: 7, error: 'Connection closed with an error.', allowReconnect: true },
      ],
      ['close with reconnect allowed', '{"type":7,"allowReconnect":true}', { type: 7, allowReconnect: true }],
      ['ack', '{"type":8,"sequenceId":3}', { type: 8, sequenceId: 3 }],
      ['sequence', '{"type":9,"sequenceId":0}', { type: 9, sequenceId: 0 }],
    ];

    it.each(golden)('writes %s', (_, wire, message) => {
      expect(protocol.writeMessage(message)).toBe(wire + RS);
    });

    it.each(golden)('reads %s', (_, wire, message) => {
      expect(parseOne(wire)).toStrictEqual(message);
    });
  });

  describe('writing', () => {
    it.each<[string, HubMessage, string]>([
      [
        'a result flagged but undefined as null',
        { type: 3, invocationId: '0', hasResult: true },
        '{"type":3,"invocationId":"0","result":null}',
      ],
      ['a defined result even without the flag', { type: 3, invocationId: '0', result: 'x' }, '{"type":3,"invocationId":"0","result":"x"}'],
      [
        'the error alone when a result came with it',
        { type: 3, invocationId: '0', error: 'e', result: 1, hasResult: true },
        '{"type":3,"invocationId":"0","error":"e"}',
      ],
      ['an empty error string', { type: 3, invocationId: '0', error: '' }, '{"type":3,"invocationId":"0","error":""}'],
      ['an undefined stream item as null', { type: 2, invocationId: '1', item: undefined }, '{"type":2,"invocationId":"1","item":null}'],
      ['no streamIds when there are none', { type: 1, target: 'A', arguments: [], streamIds: [] }, '{"type":1,"target":"A","arguments":[]}'],
      ['no headers when they are empty', { type: 5, invocationId: '1', headers: {} }, '{"type":5,"invocationId":"1"}'],
      [
        'headers on a stream item',
        { type: 2, invocationId: '1', item: 1, headers: { a: 'b' } },
        '{"type":2,"headers":{"a":"b"},"invocationId":"1","item":1}',
      ],
      ['allowReconnect only when true', { type: 7, allowReconnect: false }, '{"type":7}'],
      ['undefined arguments as null, as JSON does', { type: 1, target: 'A', arguments: [undefined, 1] }, '{"type":1,"target":"A","arguments":[null,1]}'],
    ])('writes %s', (_, message, wire) => {
      expect(protocol.writeMessage(message)).toBe(wire + RS);
    });

    it.each<[string, HubMessage, string]>([
      [
        'in arguments',
        { type: 1, target: 'A', arguments: [Buffer.from([1, 2, 3]), { at: new Date(Date.UTC(2000, 0, 1)) }] },
        '{"type":1,"target":"A","arguments":["AQID",{"at":"2000-01-01T00:00:00Z"}]}',
      ],
      [
        'in a result',
        { type: 3, invocationId: '0', result: { bytes: new Uint8Array([1, 2, 3]) }, hasResult: true },
        '{"type":3,"invocationId":"0","result":{"bytes":"AQID"}}',
      ],
      [
        'as a stream item',
        { type: 2, invocationId: '1', item: new Date(Date.UTC(2002, 3, 1, 10, 20, 15, 500)) },
        '{"type":2,"invocationId":"1","item":"2002-04-01T10:20:15.5Z"}',
      ],
    ])('writes bytes as base64 and dates as ASP.NET Core writes DateTime %s', (_, message, wire) => {
      expect(protocol.writeMessage(message)).toBe(wire + RS);
    });

    it('refuses a message of a type it does not know', () => {
      expect(() => protocol.writeMessage({ type: 42 } as unknown as HubMessage)).toThrow(new TypeError('Cannot write a hub message of type 42.'));
    });
  });

  describe('reading', () => {
    it('reads several messages from one frame, in order', () => {
      const frame = frameOf('{"type":6}', '{"type":1,"target":"Send","arguments":[]}', '{"type":8,"sequenceId":1}');
      expect(protocol.parseMessages(frame)).toStrictEqual([
        { type: MessageType.Ping },
        { type: MessageType.Invocation, target: 'Send', arguments: [] },
        { type: MessageType.Ack, sequenceId: 1 },
      ]);
    });

    it('accepts fields in any order and drops fields it does not know', () => {
      expect(parseOne('{"arguments":[1],"extra":{"x":1},"target":"Send","type":1}')).toStrictEqual({
        type: 1,
        target: 'Send',
        arguments: [1],
      });
      expect(parseOne('{"type":6,"invocationId":"1","target":1}')).toStrictEqual({ type: 6 });
    });

    it('keeps allowReconnect false when the client sent it', () => {
      expect(parseOne('{"type":7,"allowReconnect":false}')).toStrictEqual({ type: 7, allowReconnect: false });
    });

    it('reads headers on every message that carries an invocation id', () => {
      expect(parseOne('{"type":5,"invocationId":"1","headers":{"a":"b"}}')).toStrictEqual({
        type: 5,
        invocationId: '1',
        headers: { a: 'b' },
      });
      expect(parseOne('{"type":3,"invocationId":"1","headers":{},"result":1}')).toStrictEqual({
        type: 3,
        invocationId: '1',
        result: 1,
        hasResult: true,
        headers: {},
      });
    });

    it.each([0, -1, 10, 99])('skips messages of unknown type %i', (type) => {
      const frame = frameOf(`{"type":${type},"whatever":[1]}`, '{"type":6}');
      expect(protocol.parseMessages(frame)).toStrictEqual([{ type: 6 }]);
    });

    it('rejects a frame whose last message has no separator', () => {
      expect(() => protocol.parseMessages(Buffer.from('{"type":6}'))).toThrow(new ProtocolError('Message is incomplete.'));
      expect(() => protocol.parseMessages(Buffer.from(`{"type":6}${RS}{"type":6}`))).toThrow(ProtocolError);
    });

    it('rejects an empty record between separators', () => {
      expect(() => protocol.parseMessages(Buffer.from(`{"type":6}${RS}${RS}`))).toThrow(ProtocolError);
    });

    it('rejects a frame that is not UTF-8', () => {
      const frame = Buffer.concat([Buffer.from('{"type":1,"target":"'), Buffer.from([0xc3, 0x28]), Buffer.from(`","arguments":[]}${RS}`)]);
      expect(() => protocol.parseMessages(frame)).toThrow(ProtocolError);
    });

    it.each(['{"type":1', '{type:6}', "{'type':6}", '{"type":6}}', 'ping'])('rejects malformed JSON %j', (json) => {
      expect(() => parseOne(json)).toThrow(ProtocolError);
    });

    it.each(['1', '[]', '[{"type":6}]', 'null', '"x"', 'true'])('rejects %s, which is not a JSON object', (json) => {
      expect(() => parseOne(json)).toThrow(new ProtocolError('Invalid payload: a message must be a JSON object.'));
    });

    it.each(['{}', '{"type":"1"}', '{"type":1.5}', '{"type":null}', '{"type":[1]}', '{"type":1e400}'])(
      'rejects %s, whose type is not an integer',
      (json) => {
        expect(() => parseOne(json)).toThrow(new ProtocolError("Invalid payload: 'type' must be an integer."));
      },
    );

    it('rejects the whole frame when one message in it is invalid', () => {
      expect(() => protocol.parseMessages(frameOf('{"type":6}', '{"type":2}'))).toThrow(ProtocolError);
    });
  });

  describe('field validation', () => {
    const tooLong = 'x'.repeat(MAX_INVOCATION_ID_LENGTH + 1);
    const invalid: Array<[string, string, string]> = [
      ['Invocation', '{"type":1,"arguments":[]}', "'target' must be a non-empty string"],
      ['Invocation', '{"type":1,"target":1,"arguments":[]}', "'target' must be a non-empty string"],
      ['Invocation', '{"type":1,"target":"","arguments":[]}', "'target' must be a non-empty string"],
      ['Invocation', '{"type":1,"target":null,"arguments":[]}', "'target' must be a non-empty string"],
      ['Invocation', '{"type":1,"target":"A"}', "'arguments' must be an array"],
      ['Invocation', '{"type":1,"target":"A","arguments":{"0":1}}', "'arguments' must be an array"],
      ['Invocation', '{"type":1,"target":"A","arguments":"x"}', "'arguments' must be an array"],
      ['Invocation', '{"type":1,"invocationId":1,"target":"A","arguments":[]}', "'invocationId' must be"],
      ['Invocation', '{"type":1,"invocationId":null,"target":"A","arguments":[]}', "'invocationId' must be"],
      ['Invocation', '{"type":1,"invocationId":"","target":"A","arguments":[]}', "'invocationId' must be"],
      ['Invocation', `{"type":1,"invocationId":"${tooLong}","target":"A","arguments":[]}`, "'invocationId' must be"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"streamIds":"1"}', "'streamIds' must be"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"streamIds":[1]}', "'streamIds' must be"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"streamIds":[""]}', "'streamIds' must be"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"streamIds":["1",2]}', "'streamIds' must be"],
      ['Invocation', `{"type":1,"target":"A","arguments":[],"streamIds":["${tooLong}"]}`, "'streamIds' must be"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"headers":["a"]}', "'headers' must be an object of strings"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"headers":"a"}', "'headers' must be an object of strings"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"headers":{"a":1}}', "'headers' must be an object of strings"],
      ['Invocation', '{"type":1,"target":"A","arguments":[],"headers":null}', "'headers' must be an object of strings"],
      ['StreamInvocation', '{"type":4,"target":"A","arguments":[]}', "'invocationId' must be"],
      ['StreamInvocation', '{"type":4,"invocationId":"","target":"A","arguments":[]}', "'invocationId' must be"],
      ['StreamInvocation', `{"type":4,"invocationId":"${tooLong}","target":"A","arguments":[]}`, "'invocationId' must be"],
      ['StreamInvocation', '{"type":4,"invocationId":"1","arguments":[]}', "'target' must be a non-empty string"],
      ['StreamInvocation', '{"type":4,"invocationId":"1","target":"A"}', "'arguments' must be an array"],
      ['StreamInvocation', '{"type":4,"invocationId":"1","target":"A","arguments":[],"streamIds":[2]}', "'streamIds' must be"],
      ['StreamItem', '{"type":2,"item":1}', "'invocationId' must be"],
      ['StreamItem', '{"type":2,"invocationId":5,"item":1}', "'invocationId' must be"],
      ['StreamItem', `{"type":2,"invocationId":"${tooLong}","item":1}`, "'invocationId' must be"],
      ['StreamItem', '{"type":2,"invocationId":"5"}', "'item' is required"],
      ['StreamItem', '{"type":2,"invocationId":"5","item":1,"headers":{"a":[]}}', "'headers' must be an object of strings"],
      ['Completion', '{"type":3,"result":1}', "'invocationId' must be"],
      ['Completion', '{"type":3,"invocationId":0,"result":1}', "'invocationId' must be"],
      ['Completion', `{"type":3,"invocationId":"${tooLong}"}`, "'invocationId' must be"],
      ['Completion', '{"type":3,"invocationId":"0","error":1}', "'error' must be a string"],
      ['Completion', '{"type":3,"invocationId":"0","error":null}', "'error' must be a string"],
      ['Completion', '{"type":3,"invocationId":"0","error":"e","result":1}', "'error' and 'result' are mutually exclusive"],
      ['Completion', '{"type":3,"invocationId":"0","error":"e","result":null}', "'error' and 'result' are mutually exclusive"],
      ['CancelInvocation', '{"type":5}', "'invocationId' must be"],
      ['CancelInvocation', '{"type":5,"invocationId":["1"]}', "'invocationId' must be"],
      ['CancelInvocation', `{"type":5,"invocationId":"${tooLong}"}`, "'invocationId' must be"],
      ['Close', '{"type":7,"error":1}', "'error' must be a string"],
      ['Close', '{"type":7,"error":null}', "'error' must be a string"],
      ['Close', '{"type":7,"allowReconnect":"true"}', "'allowReconnect' must be a boolean"],
      ['Close', '{"type":7,"allowReconnect":1}', "'allowReconnect' must be a boolean"],
      ['Ack', '{"type":8}', "'sequenceId' must be a non-negative integer"],
      ['Ack', '{"type":8,"sequenceId":-1}', "'sequenceId' must be a non-negative integer"],
      ['Ack', '{"type":8,"sequenceId":1.5}', "'sequenceId' must be a non-negative integer"],
      ['Ack', '{"type":8,"sequenceId":"1"}', "'sequenceId' must be a non-negative integer"],
      ['Ack', '{"type":8,"sequenceId":1e300}', "'sequenceId' must be a non-negative integer"],
      ['Sequence', '{"type":9}', "'sequenceId' must be a non-negative integer"],
      ['Sequence', '{"type":9,"sequenceId":-5}', "'sequenceId' must be a non-negative integer"],
      ['Sequence', '{"type":9,"sequenceId":null}', "'sequenceId' must be a non-negative integer"],
    ];

    it.each(invalid)('rejects a %s message %s', (kind, json, problem) => {
      expect(() => parseOne(json)).toThrow(`Invalid payload for ${kind} message: ${problem}`);
      expect(() => parseOne(json)).toThrow(ProtocolError);
    });

    it('names its errors ProtocolError, as logs and filters tell them apart', () => {
      expect(() => parseOne('{"type":1}')).toThrow(expect.objectContaining({ name: 'ProtocolError' }));
    });
  });

  describe('depth limit', () => {
    it('accepts a message nested exactly to the limit and rejects one level more', () => {
      expect(parseOne(invocationNested(30))).toMatchObject({ type: 1, target: 'Echo' });
      expect(() => parseOne(invocationNested(31))).toThrow(
        new ProtocolError('Message nests deeper than the maximum depth of 32.'),
      );
    });

    it('honours a depth limit of its own', () => {
      const shallow = new JsonHubProtocol({ maxDepth: 4 });
      expect(parseOne(invocationNested(2), shallow)).toBeDefined();
      expect(() => parseOne(invocationNested(3), shallow)).toThrow(ProtocolError);
    });

    it('rejects a 100k-deep bomb without overflowing the stack', () => {
      const bomb = `{"type":1,"target":"Echo","arguments":[${'['.repeat(100_000)}]}`;
      expect(() => protocol.parseMessages(frameOf(bomb))).toThrow(ProtocolError);
    });
  });

  describe('prototype pollution', () => {
    afterEach(() => {
      Reflect.deleteProperty(Object.prototype, 'polluted');
    });

    it.each([
      ['__proto__ in an argument', '{"type":1,"target":"A","arguments":[{"__proto__":{"polluted":1}}]}'],
      ['constructor.prototype in an argument', '{"type":1,"target":"A","arguments":[{"constructor":{"prototype":{"polluted":1}}}]}'],
      ['__proto__ on the message itself', '{"type":1,"target":"A","arguments":[{}],"__proto__":{"polluted":1}}'],
      ['__proto__ in headers', '{"type":1,"target":"A","arguments":[{}],"headers":{"__proto__":"x"}}'],
      ['escaped __proto__', '{"type":1,"target":"A","arguments":[{"\\u005f_proto__":{"polluted":1}}]}'],
    ])('drops %s', (_, json) => {
      const message = parseOne(json);
      expect(message).toMatchObject({ type: 1, target: 'A', arguments: [{}] });
      expect(JSON.stringify(message)).not.toContain('polluted');
      expect('polluted' in {}).toBe(false);
      if (message?.type === MessageType.Invocation) {
        const [argument] = message.arguments;
        expect(Object.getPrototypeOf(argument)).toBe(Object.prototype);
        expect(Object.getPrototypeOf({ ...(argument as object) })).toBe(Object.prototype);
        expect(Object.getPrototypeOf(Object.assign({}, argument))).toBe(Object.prototype);
        if (message.headers) expect(Object.hasOwn(message.headers, '__proto__')).toBe(false);
      }
    });

    it('cannot be fooled by a prototype polluted elsewhere', () => {
      Reflect.set(Object.prototype, 'target', 'Injected');
      try {
        expect(() => parseOne('{"type":1,"arguments":[]}')).toThrow("'target' must be");
      } finally {
        Reflect.deleteProperty(Object.prototype, 'target');
      }
    });
  });
});
