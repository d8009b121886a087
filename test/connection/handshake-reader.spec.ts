import { describe, expect, it } from 'vitest';
import { HandshakeReader } from '../../src/connection/handshake-reader.js';
import { closeErrors } from '../../src/errors/invocation-errors.js';
import type { HubProtocol } from '../../src/protocol/hub-protocol.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';

const RS = '\u001e';
const json = new JsonHubProtocol();
const messagePack = new MessagePackHubProtocol();
const protocols: ReadonlyMap<string, HubProtocol> = new Map<string, HubProtocol>([
  [json.name, json],
  [messagePack.name, messagePack],
]);

const request = (protocol: string, version: number): Buffer => Buffer.from(`{"protocol":"${protocol}","version":${version}}${RS}`);
const reader = (maxSize = 1024, textOnly = false): HandshakeReader => new HandshakeReader(protocols, maxSize, textOnly);

describe('HandshakeReader', () => {
  it('agrees on the protocol asked for and hands back what followed the request in its frame', () => {
    const outcome = reader().read(Buffer.concat([request('json', 1), Buffer.from(`{"type":6}${RS}`)]));
    expect(outcome).toEqual({ kind: 'agreed', protocol: json, version: 1, remaining: Buffer.from(`{"type":6}${RS}`) });
  });

  it('reads a request that spans frames, waiting until its separator arrives', () => {
    const handshake = reader();
    const whole = request('messagepack', 1);
    expect(handshake.read(whole.subarray(0, 5))).toEqual({ kind: 'incomplete' });
    expect(handshake.read(whole.subarray(5, 20))).toEqual({ kind: 'incomplete' });
    expect(handshake.read(whole.subarray(20))).toEqual({ kind: 'agreed', protocol: messagePack, version: 1, remaining: Buffer.alloc(0) });
  });

  it('keeps none of a request once agreed: the next request is read on its own', () => {
    const handshake = reader();
    const whole = request('json', 1);
    handshake.read(whole.subarray(0, 10));
    expect(handshake.read(whole.subarray(10))).toMatchObject({ kind: 'agreed' });
    expect(handshake.read(request('messagepack', 2))).toMatchObject({ kind: 'agreed', protocol: messagePack, version: 2 });
  });

  it('takes a request of exactly the size limit and cancels one byte more, counted over every frame', () => {
    const whole = request('json', 1);
    expect(reader(whole.length).read(whole)).toMatchObject({ kind: 'agreed' });
    expect(reader(whole.length - 1).read(whole)).toEqual({ kind: 'failed', error: closeErrors.handshakeCanceled });
    const split = reader(whole.length - 1);
    expect(split.read(whole.subarray(0, 10))).toEqual({ kind: 'incomplete' });
    expect(split.read(whole.subarray(10))).toEqual({ kind: 'failed', error: closeErrors.handshakeCanceled });
  });

  it('cancels a request that grows past the limit before its separator arrives', () => {
    const handshake = reader(16);
    expect(handshake.read(Buffer.from('{"protocol":'))).toEqual({ kind: 'incomplete' });
    expect(handshake.read(Buffer.from('"json"'))).toEqual({ kind: 'failed', error: closeErrors.handshakeCanceled });
  });

  it('fails a request that is not a handshake, with the parser’s reason kept for the log', () => {
    expect(reader().read(Buffer.from(`{"protocol":"json"}${RS}`))).toEqual({
      kind: 'failed',
      error: closeErrors.handshakeUnexpected,
      detail: "Handshake request: 'version' must be an integer.",
    });
  });

  it('refuses a protocol the hub does not speak', () => {
    expect(reader().read(request('xml', 1))).toEqual({ kind: 'failed', error: closeErrors.unsupportedProtocol('xml') });
  });

  it('speaks every version from 1 to the protocol’s own, and refuses the others', () => {
    expect(reader().read(request('json', 0))).toEqual({ kind: 'failed', error: closeErrors.unsupportedVersion('json', 0) });
    expect(reader().read(request('json', 1))).toMatchObject({ kind: 'agreed', version: 1 });
    expect(reader().read(request('json', json.version))).toMatchObject({ kind: 'agreed', version: json.version });
    const above = json.version + 1;
    expect(reader().read(request('json', above))).toEqual({ kind: 'failed', error: closeErrors.unsupportedVersion('json', above) });
  });

  it('refuses a binary protocol on a text-only transport, and takes it elsewhere', () => {
    expect(reader(1024, true).read(request('messagepack', 1))).toEqual({
      kind: 'failed',
      error: closeErrors.unsupportedTransferFormat('messagepack', 'Binary'),
    });
    expect(reader(1024, true).read(request('json', 1))).toMatchObject({ kind: 'agreed', protocol: json });
    // Text-only is what a transport says of itself; by default a binary protocol is taken.
    expect(new HandshakeReader(protocols, 1024).read(request('messagepack', 1))).toMatchObject({ kind: 'agreed', protocol: messagePack });
  });
});
