import { describe, expect, it } from 'vitest';
import { SignalRError, SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import type { HubConnectionHandle } from '../../src/lifetime/hub-connection-handle.js';
import { InProcessLifetimeManager } from '../../src/lifetime/in-process-lifetime-manager.js';
import type { HubMessage, InvocationMessage } from '../../src/protocol/hub-message.js';
import type { HubProtocol } from '../../src/protocol/hub-protocol.js';
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js';
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js';
import type { SerializedHubMessage } from '../../src/protocol/serialized-hub-message.js';

/** A real protocol that counts how often it serializes. */
class CountingProtocol implements HubProtocol {
  writes = 0;
  readonly name: string;
  readonly version: number;
  readonly transferFormat: HubProtocol['transferFormat'];

  constructor(private readonly inner: HubProtocol) {
    ({ name: this.name, version: this.version, transferFormat: this.transferFormat } = inner);
  }

  parseMessages(frame: Buffer): HubMessage[] {
    return this.inner.parseMessages(frame);
  }

  writeMessage(message: HubMessage): string | Uint8Array {
    this.writes++;
    return this.inner.writeMessage(message);
  }
}

/** A connection as the manager sees it: it writes each message in its protocol, as a live one does. */
class RecordingConnection implements HubConnectionHandle {
  readonly messages: SerializedHubMessage[] = [];
  readonly payloads: (string | Uint8Array)[] = [];
  readonly membership: [string, boolean][] = [];

  constructor(
    readonly connectionId: string,
    readonly userIdentifier: string | undefined = undefined,
    readonly maximumGroups = 100,
    private readonly protocol: HubProtocol = new JsonHubProtocol(),
  ) {}

  write(message: SerializedHubMessage): void {
    this.messages.push(message);
    this.payloads.push(message.payloadFor(this.protocol));
  }

  async invokeClient(method: string, args: readonly unknown[]): Promise<unknown> {
    return `${this.connectionId} answers ${method}(${args.join(',')})`;
  }

  membershipChanged(groupName: string, member: boolean): void {
    this.membership.push([groupName, member]);
  }

  /** The targets of the invocations it received, in order. */
  targets(): string[] {
    return this.messages.map((message) => (message.message as InvocationMessage).target);
  }
}

async function managerWith(...connections: RecordingConnection[]): Promise<InProcessLifetimeManager> {
  const manager = new InProcessLifetimeManager();
  for (const connection of connections) await manager.onConnected(connection);
  return manager;
}

describe('InProcessLifetimeManager: sending', () => {
  it('sends to all, except the excluded connections', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new RecordingConnection(id));
    const manager = await managerWith(a, b, c);
    await manager.sendAll('everyone', []);
    await manager.sendAll('notB', [], ['b', 'unknown']);
    await manager.sendAll('none', [], ['a', 'b', 'c']);
    expect(a.targets()).toEqual(['everyone', 'notB']);
    expect(b.targets()).toEqual(['everyone']);
    expect(c.targets()).toEqual(['everyone', 'notB']);
  });

  it('sends to the named connections once each, whatever the repeats, and skips unknown ids', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new RecordingConnection(id));
    const manager = await managerWith(a, b, c);
    await manager.sendConnections(['a', 'unknown', 'c', 'a', 'c'], 'hello', [1]);
    expect([a.targets(), b.targets(), c.targets()]).toEqual([['hello'], [], ['hello']]);
    expect(a.messages[0].message).toEqual({ type: 1, target: 'hello', arguments: [1] });
  });

  it('sends to groups once per connection, however many of the groups it is in, and skips the excluded', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new RecordingConnection(id));
    const manager = await managerWith(a, b, c, d);
    for (const [id, group] of [['a', 'red'], ['a', 'blue'], ['b', 'red'], ['c', 'blue'], ['d', 'green']]) await manager.addToGroup(id, group);

    await manager.sendGroups(['red', 'blue', 'empty'], 'colours', []);
    await manager.sendGroups(['red', 'blue'], 'notC', [], ['c']);
    await manager.sendGroups(['blue', 'blue'], 'blueTwice', []);
    expect(a.targets()).toEqual(['colours', 'notC', 'blueTwice']);
    expect(b.targets()).toEqual(['colours', 'notC']);
    expect(c.targets()).toEqual(['colours', 'blueTwice']);
    expect(d.targets()).toEqual([]);
  });

  it('sends to every connection of the named users, once each', async () => {
    const aliceOnPhone = new RecordingConnection('a1', 'alice');
    const aliceOnLaptop = new RecordingConnection('a2', 'alice');
    const bob = new RecordingConnection('b', 'bob');
    const anonymous = new RecordingConnection('x');
    const manager = await managerWith(aliceOnPhone, aliceOnLaptop, bob, anonymous);
    await manager.sendUsers(['alice', 'alice', 'nobody'], 'forAlice', []);
    await manager.sendUsers(['alice', 'bob'], 'forBoth', []);
    expect(aliceOnPhone.targets()).toEqual(['forAlice', 'forBoth']);
    expect(aliceOnLaptop.targets()).toEqual(['forAlice', 'forBoth']);
    expect(bob.targets()).toEqual(['forBoth']);
    expect(anonymous.targets()).toEqual([]);
  });

  it('keeps connection ids, group names and user keys apart: a name reaches only what it names', async () => {
    // 'x' is the id of one connection, a group of another and the user key of a third.
    const connection = new RecordingConnection('x');
    const member = new RecordingConnection('m');
    const user = new RecordingConnection('u', 'x');
    const manager = await managerWith(connection, member, user);
    await manager.addToGroup('m', 'x');
    await manager.sendConnections(['x'], 'toConnection', []);
    await manager.sendGroups(['x'], 'toGroup', []);
    await manager.sendUsers(['x'], 'toUser', []);
    expect([connection.targets(), member.targets(), user.targets()]).toEqual([['toConnection'], ['toGroup'], ['toUser']]);
  });

  it('serializes a broadcast once per protocol, however many connections speak it', async () => {
    const json = new CountingProtocol(new JsonHubProtocol());
    const messagePack = new CountingProtocol(new MessagePackHubProtocol());
    const jsonConnections = ['j1', 'j2', 'j3'].map((id) => new RecordingConnection(id, undefined, 100, json));
    const binaryConnections = ['m1', 'm2'].map((id) => new RecordingConnection(id, undefined, 100, messagePack));
    const everyone = [...jsonConnections, ...binaryConnections];
    const manager = await managerWith(...everyone);
    for (const connection of everyone) await manager.addToGroup(connection.connectionId, connection.connectionId.startsWith('j') ? 'odd' : 'even');

    await manager.sendAll('news', ['today']);
    expect([json.writes, messagePack.writes]).toEqual([1, 1]);
    await manager.sendGroups(['odd', 'even'], 'groupNews', []);
    expect([json.writes, messagePack.writes]).toEqual([2, 2]);

    // A text record, encoded once: every socket gets the same bytes.
    const expected = Buffer.from(new JsonHubProtocol().writeMessage({ type: 1, target: 'news', arguments: ['today'] }));
    expect(jsonConnections.map((connection) => connection.payloads[0])).toEqual([expected, expected, expected]);
    expect(new Set(jsonConnections.map((connection) => connection.payloads[0])).size).toBe(1);
    const expectedBinary = new MessagePackHubProtocol().writeMessage({ type: 1, target: 'news', arguments: ['today'] });
    expect(binaryConnections.map((connection) => connection.payloads[0])).toEqual([expectedBinary, expectedBinary]);
  });
});

describe('InProcessLifetimeManager: groups', () => {
  it('reports each real change of membership once, and none for a repeat', async () => {
    const a = new RecordingConnection('a');
    const manager = await managerWith(a);
    await manager.addToGroup('a', 'red');
    await manager.addToGroup('a', 'red');
    await manager.addToGroup('a', 'blue');
    await manager.removeFromGroup('a', 'red');
    await manager.removeFromGroup('a', 'red');
    await manager.removeFromGroup('a', 'never-joined');
    expect(a.membership).toEqual([
      ['red', true],
      ['blue', true],
      ['red', false],
    ]);
    await manager.sendGroups(['red'], 'red', []);
    await manager.sendGroups(['blue'], 'blue', []);
    expect(a.targets()).toEqual(['blue']);
  });

  it('ignores joins and leaves of a connection it does not hold', async () => {
    const manager = await managerWith();
    await expect(manager.addToGroup('unknown', 'red')).resolves.toBeUndefined();
    await expect(manager.removeFromGroup('unknown', 'red')).resolves.toBeUndefined();
  });

  it('refuses a join past maximumGroups with SIGNALR_TOO_MANY_GROUPS; a group it is in, or a freed place, is fine', async () => {
    const a = new RecordingConnection('a', undefined, 2);
    const manager = await managerWith(a);
    await manager.addToGroup('a', 'one');
    await manager.addToGroup('a', 'two');
    const refused = await manager.addToGroup('a', 'three').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SignalRError);
    expect(refused).toMatchObject({ code: SignalRErrorCode.TooManyGroups, message: 'A connection may be in at most 2 groups. (SIGNALR_TOO_MANY_GROUPS)' });
    await manager.addToGroup('a', 'two');
    await manager.sendGroups(['three'], 'three', []);
    expect(a.targets()).toEqual([]);

    await manager.removeFromGroup('a', 'one');
    await manager.addToGroup('a', 'three');
    await manager.sendGroups(['three'], 'three', []);
    expect(a.targets()).toEqual(['three']);
    expect(a.membership).toEqual([
      ['one', true],
      ['two', true],
      ['one', false],
      ['three', true],
    ]);
  });
});

describe('InProcessLifetimeManager: connections ending', () => {
  it('forgets a disconnected connection in every index: all, ids, groups, users and its group count', async () => {
    const gone = new RecordingConnection('a', 'alice', 1);
    const stays = new RecordingConnection('b', 'alice');
    const manager = await managerWith(gone, stays);
    await manager.addToGroup('a', 'red');
    await manager.addToGroup('b', 'red');
    await manager.onDisconnected(gone);

    await manager.sendAll('all', []);
    await manager.sendConnections(['a'], 'id', []);
    await manager.sendGroups(['red'], 'group', []);
    await manager.sendUsers(['alice'], 'user', []);
    expect(gone.targets()).toEqual([]);
    expect(stays.targets()).toEqual(['all', 'group', 'user']);

    // The same id coming back starts in no group: the old membership neither counts nor is reported.
    const back = new RecordingConnection('a', 'alice', 1);
    await manager.onConnected(back);
    await manager.addToGroup('a', 'blue');
    await manager.removeFromGroup('a', 'red');
    await manager.sendGroups(['red'], 'red', []);
    expect(back.targets()).toEqual([]);
    expect(back.membership).toEqual([['blue', true]]);
  });

  it('forgets every connection once disposed', async () => {
    const a = new RecordingConnection('a', 'alice');
    const manager = await managerWith(a);
    await manager.addToGroup('a', 'red');
    await manager.dispose();
    await manager.sendAll('all', []);
    await manager.sendGroups(['red'], 'red', []);
    await manager.sendUsers(['alice'], 'alice', []);
    expect(a.targets()).toEqual([]);
  });
});

describe('InProcessLifetimeManager: client results', () => {
  it('asks the connection and resolves with its answer', async () => {
    const manager = await managerWith(new RecordingConnection('a'));
    await expect(manager.invokeConnection('a', 'question', [1, 2])).resolves.toBe('a answers question(1,2)');
  });

  it('rejects an unknown connection id with SIGNALR_CONNECTION_NOT_FOUND', async () => {
    const manager = await managerWith(new RecordingConnection('a'));
    const refused = await manager.invokeConnection('b', 'question', []).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SignalRError);
    expect(refused).toMatchObject({ code: SignalRErrorCode.ConnectionNotFound, message: "Connection 'b' does not exist. (SIGNALR_CONNECTION_NOT_FOUND)" });
  });
});
