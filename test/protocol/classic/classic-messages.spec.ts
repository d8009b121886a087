import { describe, expect, it } from 'vitest';
import {
  parseConnectionData,
  parseHubInvocation,
  writeClientInvocation,
  writeHubResult,
  writePersistentResponse,
} from '../../../src/protocol/classic/classic-messages.js';
import { ProtocolError } from '../../../src/protocol/protocol-error.js';

describe('classic hub invocations', () => {
  it('reads what the jQuery client sends: hub, method, arguments, a numeric id and optional state', () => {
    expect(parseHubInvocation('{"H":"chathub","M":"Send","A":["a",1],"I":0,"S":{"name":"x"}}', 20)).toEqual({
      hub: 'chathub',
      method: 'Send',
      arguments: ['a', 1],
      invocationId: '0',
      state: '{"name":"x"}',
    });
    expect(parseHubInvocation('{"H":"chathub","M":"Ping","I":"7"}', 20)).toMatchObject({ arguments: [], invocationId: '7', state: undefined });
  });

  it.each([
    ['not an object', '[1]'],
    ['no hub', '{"M":"x","A":[],"I":0}'],
    ['no method', '{"H":"h","A":[],"I":0}'],
    ['arguments not an array', '{"H":"h","M":"m","A":{},"I":0}'],
    ['no id', '{"H":"h","M":"m","A":[]}'],
    ['a fractional id', '{"H":"h","M":"m","A":[],"I":0.5}'],
    ['state not an object', '{"H":"h","M":"m","A":[],"I":0,"S":[]}'],
    ['too deep', '{"H":"h","M":"m","A":[[[[[[]]]]]],"I":0}'],
    ['not JSON', '{"H":'],
  ])('refuses %s', (_, text) => {
    expect(() => parseHubInvocation(text, 5)).toThrow(ProtocolError);
  });

  it('drops keys that could reach Object.prototype', () => {
    const invocation = parseHubInvocation('{"H":"h","M":"m","A":[{"__proto__":{"polluted":true}}],"I":0}', 20);
    expect(Object.keys(invocation.arguments[0] as object)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('connectionData', () => {
  it('lower-cases the names, and refuses a hub named twice', () => {
    expect(parseConnectionData('[{"name":"ChatHub"},{"name":"publichub"}]', 3)).toEqual(['chathub', 'publichub']);
    expect(parseConnectionData(null, 3)).toEqual([]);
    expect(() => parseConnectionData('[{"name":"chathub"},{"name":"ChatHub"}]', 3)).toThrow('Duplicate Hub names found.');
    expect(() => parseConnectionData('[{"nom":"x"}]', 3)).toThrow(ProtocolError);
    expect(() => parseConnectionData('{"name":"x"}', 3)).toThrow(ProtocolError);
  });
});

describe('what the server writes', () => {
  it('writes persistent responses with the cursor, the init flag, the groups token and the messages', () => {
    expect(writePersistentResponse({ cursor: '0', initialized: true, messages: [] })).toBe('{"C":"0","S":1,"M":[]}');
    expect(writePersistentResponse({ cursor: '4', groupsToken: 'g', messages: ['{"I":"1","R":2}'] })).toBe('{"C":"4","G":"g","M":[{"I":"1","R":2}]}');
    expect(writePersistentResponse({ cursor: '5', error: 'gone', messages: [] })).toBe('{"C":"5","E":"gone","M":[]}');
    expect(writePersistentResponse({ cursor: '5', shouldReconnect: true, messages: [] })).toBe('{"C":"5","T":1,"M":[]}');
  });

  it('writes client calls and results as the jQuery client reads them', () => {
    expect(JSON.parse(writeClientInvocation('chatHub', 'ReceiveMessage', ['a']))).toEqual({ H: 'chatHub', M: 'ReceiveMessage', A: ['a'] });
    expect(JSON.parse(writeHubResult({ invocationId: '3', result: undefined }))).toEqual({ I: '3', R: null });
    expect(JSON.parse(writeHubResult({ invocationId: '3', error: 'no', hubException: true, errorData: { code: 1 } }))).toEqual({ I: '3', E: 'no', H: true, D: { code: 1 } });
    expect(JSON.parse(writeHubResult({ invocationId: '3', error: 'generic', hubException: false }))).toEqual({ I: '3', E: 'generic' });
    expect(JSON.parse(writeHubResult({ invocationId: '3', result: 1, stateChanges: { name: 'a', gone: null } }))).toEqual({ I: '3', R: 1, S: { name: 'a', gone: null } });
  });
});
