import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { HANDSHAKE_SUCCESS, handshakeError, parseHandshakeRequest } from '../../src/protocol/handshake.js';
import { ProtocolError } from '../../src/protocol/protocol-error.js';

const RS = '\u001e';

interface ClientHandshakeProtocol {
  writeHandshakeRequest(request: { protocol: string; version: number }): string;
  parseHandshakeResponse(data: string | ArrayBuffer): [unknown, { error?: string }];
}

// The client keeps its handshake code out of its public index; its CommonJS build still ships it.
const { HandshakeProtocol } = createRequire(import.meta.url)('@microsoft/signalr/dist/cjs/HandshakeProtocol.js') as {
  HandshakeProtocol: new () => ClientHandshakeProtocol;
};

/** A request with a field of the client's own holding `value`. */
function requestWithField(value: string): Buffer {
  return Buffer.from(`{"protocol":"json","version":1,"x":${value}}${RS}`);
}

describe('parseHandshakeRequest', () => {
  it('reads a complete request', () => {
    const parsed = parseHandshakeRequest(Buffer.from(`{"protocol":"json","version":1}${RS}`));
    expect(parsed?.request).toEqual({ protocol: 'json', version: 1 });
    expect(parsed?.remaining.length).toBe(0);
  });

  it('reads what the official client writes', () => {
    const text = new HandshakeProtocol().writeHandshakeRequest({ protocol: 'messagepack', version: 2 });
    expect(parseHandshakeRequest(Buffer.from(text))?.request).toEqual({ protocol: 'messagepack', version: 2 });
  });

  it.each([
    ['nothing yet', ''],
    ['half a request', '{"protocol":"json"'],
    ['a whole request but no separator', '{"protocol":"json","version":1}'],
  ])('waits for more bytes when it has %s', (_, text) => {
    expect(parseHandshakeRequest(Buffer.from(text))).toBeUndefined();
  });

  it('hands back JSON messages that followed in the same frame', () => {
    const parsed = parseHandshakeRequest(Buffer.from(`{"protocol":"json","version":1}${RS}{"type":6}${RS}`));
    expect(parsed?.remaining.toString()).toBe(`{"type":6}${RS}`);
  });

  it('hands back binary bytes that followed, 0x1E included, untouched', () => {
    const messagePack = Buffer.from([0x02, 0x91, 0x06, 0x1e, 0xff]);
    const frame = Buffer.concat([Buffer.from(`{"protocol":"messagepack","version":1}${RS}`), messagePack]);
    const parsed = parseHandshakeRequest(frame);
    expect(parsed?.request).toEqual({ protocol: 'messagepack', version: 1 });
    expect(parsed?.remaining.equals(messagePack)).toBe(true);
  });

  it('ignores fields it does not know', () => {
    const parsed = parseHandshakeRequest(Buffer.from(`{"protocol":"json","version":1,"extra":{"a":[1]}}${RS}`));
    expect(parsed?.request).toEqual({ protocol: 'json', version: 1 });
  });

  it.each([
    ['an array', `["json",1]${RS}`],
    ['null', `null${RS}`],
    ['a string', `"json"${RS}`],
    ['a number', `1${RS}`],
  ])('rejects %s as not an object', (_, text) => {
    expect(() => parseHandshakeRequest(Buffer.from(text))).toThrow(new ProtocolError('Handshake request must be a JSON object.'));
  });

  it('accepts a field of its own nested to depth 4, the request included, and no deeper', () => {
    expect(parseHandshakeRequest(requestWithField('[[[]]]'))?.request).toEqual({ protocol: 'json', version: 1 });
    expect(() => parseHandshakeRequest(requestWithField('[[[[]]]]'))).toThrow(
      new ProtocolError('Message nests deeper than the maximum depth of 4.'),
    );
  });

  it.each([
    ['an empty request', RS],
    ['broken JSON', `{"protocol":"json",${RS}`],
    ['JavaScript rather than JSON', `{protocol:'json',version:1}${RS}`],
    ['an array', `["json",1]${RS}`],
    ['null', `null${RS}`],
    ['a string', `"json"${RS}`],
    ['a number', `1${RS}`],
    ['a depth bomb', `{"protocol":"json","version":1,"x":${'['.repeat(100_000)}${RS}`],
  ])('rejects %s', (_, text) => {
    expect(() => parseHandshakeRequest(Buffer.from(text))).toThrow(ProtocolError);
  });

  it('rejects bytes that are not UTF-8', () => {
    const frame = Buffer.concat([Buffer.from('{"protocol":"js'), Buffer.from([0xff]), Buffer.from(`on","version":1}${RS}`)]);
    expect(() => parseHandshakeRequest(frame)).toThrow(ProtocolError);
  });

  it.each([
    ['protocol missing', '{"version":1}', 'protocol'],
    ['protocol a number', '{"protocol":1,"version":1}', 'protocol'],
    ['protocol null', '{"protocol":null,"version":1}', 'protocol'],
    ['version missing', '{"protocol":"json"}', 'version'],
    ['version a string', '{"protocol":"json","version":"1"}', 'version'],
    ['version a fraction', '{"protocol":"json","version":1.5}', 'version'],
    ['version null', '{"protocol":"json","version":null}', 'version'],
  ])('rejects a request with %s', (_, json, field) => {
    const expected = field === 'protocol' ? "'protocol' must be a string" : "'version' must be an integer";
    expect(() => parseHandshakeRequest(Buffer.from(json + RS))).toThrow(new ProtocolError(`Handshake request: ${expected}.`));
  });

  it('does not read fields smuggled in under __proto__', () => {
    expect(() => parseHandshakeRequest(Buffer.from(`{"__proto__":{"protocol":"json","version":1}}${RS}`))).toThrow(
      ProtocolError,
    );
  });
});

describe('handshake responses', () => {
  it('answers success with exactly {} and a separator', () => {
    expect(HANDSHAKE_SUCCESS).toBe(`{}${RS}`);
  });

  it('answers an error as a JSON object with an escaped message', () => {
    expect(handshakeError("The protocol 'x' is not supported.")).toBe(
      `{"error":"The protocol 'x' is not supported."}${RS}`,
    );
    expect(handshakeError('say "hi"\n')).toBe(`{"error":"say \\"hi\\"\\n"}${RS}`);
  });

  it('are read by the official client', () => {
    const client = new HandshakeProtocol();
    expect(client.parseHandshakeResponse(HANDSHAKE_SUCCESS)).toEqual([null, {}]);
    const binary = new Uint8Array(Buffer.from(HANDSHAKE_SUCCESS)).buffer;
    expect(client.parseHandshakeResponse(binary)[1]).toEqual({});
    expect(client.parseHandshakeResponse(handshakeError('Handshake was canceled.'))[1]).toEqual({
      error: 'Handshake was canceled.',
    });
  });
});
