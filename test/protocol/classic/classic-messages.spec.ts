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

  it.each([
    ['null', 'null', 'A hub invocation must be a JSON object.'],
    ['a string', '"chathub"', 'A hub invocation must be a JSON object.'],
    ['an array', '[{"H":"h","M":"m","I":0}]', 'A hub invocation must be a JSON object.'],
    ['an empty hub name', '{"H":"","M":"m","I":0}', "A hub invocation needs the hub's name in 'H'."],
    ['a hub name that is not a string', '{"H":1,"M":"m","I":0}', "A hub invocation needs the hub's name in 'H'."],
    ['an empty method name', '{"H":"h","M":"","I":0}', "A hub invocation needs the method's name in 'M'."],
    ['a method name that is not a string', '{"H":"h","M":["m"],"I":0}', "A hub invocation needs the method's name in 'M'."],
    ['arguments that are null', '{"H":"h","M":"m","A":null,"I":0}', "A hub invocation's arguments 'A' must be an array."],
    ['an id past the safe integers', '{"H":"h","M":"m","I":9007199254740992}', "A hub invocation needs its id in 'I'."],
    ['an id that is a boolean', '{"H":"h","M":"m","I":true}', "A hub invocation needs its id in 'I'."],
    ['an id of 129 characters', `{"H":"h","M":"m","I":"${'7'.repeat(129)}"}`, 'A hub invocation id is too long.'],
    ['state that is null', '{"H":"h","M":"m","I":0,"S":null}', "A hub invocation's state 'S' must be an object."],
    ['state that is a number', '{"H":"h","M":"m","I":0,"S":1}', "A hub invocation's state 'S' must be an object."],
  ])('refuses %s with the reason', (_, text, reason) => {
    expect(() => parseHubInvocation(text, 5)).toThrow(new ProtocolError(reason));
  });

  it('accepts ids up to the longest allowed and integers up to the largest safe one', () => {
    const longest = '7'.repeat(128);
    expect(parseHubInvocation(`{"H":"h","M":"m","I":"${longest}"}`, 5).invocationId).toBe(longest);
    expect(parseHubInvocation('{"H":"h","M":"m","I":9007199254740991}', 5).invocationId).toBe('9007199254740991');
  });

  it('applies the depth limit it is given, no other', () => {
    const text = '{"H":"h","M":"m","A":[[1]],"I":0}';
    expect(parseHubInvocation(text, 3).arguments).toEqual([[1]]);
    expect(() => parseHubInvocation(text, 2)).toThrow(new ProtocolError('Message nests deeper than the maximum depth of 2.'));
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

  it('reads an empty parameter as no hubs, and Name as well as name (the classic server read it case-insensitively)', () => {
    expect(parseConnectionData('', 3)).toEqual([]);
    expect(parseConnectionData('[]', 3)).toEqual([]);
    expect(parseConnectionData('[{"Name":"ChatHub"}]', 3)).toEqual(['chathub']);
    expect(parseConnectionData('[{"name":"first","Name":"second"}]', 3)).toEqual(['first']);
  });

  it.each([
    ['not an array', '{"name":"x"}', 'connectionData must be a JSON array.'],
    ['null', 'null', 'connectionData must be a JSON array.'],
    ['a bare name', '["chathub"]', 'Each hub in connectionData needs a name.'],
    ['a hub in an array', '[["chathub"]]', 'Each hub in connectionData needs a name.'],
    ['a null hub', '[null]', 'Each hub in connectionData needs a name.'],
    ['an empty name', '[{"name":""}]', 'Each hub in connectionData needs a name.'],
    ['a name that is not a string', '[{"name":1}]', 'Each hub in connectionData needs a name.'],
    ['nesting past the limit', '[{"name":{"x":1}}]', 'Message nests deeper than the maximum depth of 2.'],
  ])('refuses %s with the reason', (_, text, reason) => {
    expect(() => parseConnectionData(text, 2)).toThrow(new ProtocolError(reason));
  });
});

describe('what the server writes', () => {
  it('writes persistent responses with the cursor, the init flag, the groups token and the messages', () => {
    expect(writePersistentResponse({ cursor: '0', initialized: true, messages: [] })).toBe('{"C":"0","S":1,"M":[]}');
    expect(writePersistentResponse({ cursor: '4', groupsToken: 'g', messages: ['{"I":"1","R":2}'] })).toBe('{"C":"4","G":"g","M":[{"I":"1","R":2}]}');
    expect(writePersistentResponse({ cursor: '6', messages: ['{"I":"1"}', '{"I":"2"}'] })).toBe('{"C":"6","M":[{"I":"1"},{"I":"2"}]}');
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
