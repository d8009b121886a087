import { beforeEach, describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { InProcessLifetimeManager } from '../../src/lifetime/in-process-lifetime-manager.js';
import { FakeConnection } from './fake-connection.js';

describe('InProcessLifetimeManager: the one record of a node’s connections, groups and users', () => {
  let manager: InProcessLifetimeManager;
  let alice: FakeConnection;
  let bob: FakeConnection;

  beforeEach(async () => {
    manager = new InProcessLifetimeManager();
    alice = new FakeConnection('alice');
    bob = new FakeConnection('bob');
    await manager.onConnected(alice);
    await manager.onConnected(bob);
  });

  it('joins and leaves groups at once, says whether anything changed, and tells the connection once per change', () => {
    expect(manager.join(alice.connectionId, 'red')).toBe(true);
    expect(manager.join(alice.connectionId, 'red')).toBe(false);
    expect(manager.join(alice.connectionId, 'blue')).toBe(true);
    expect(manager.join(bob.connectionId, 'red')).toBe(true);
    expect([...manager.groupsOf(alice.connectionId)!]).toEqual(['red', 'blue']);
    expect(manager.hasGroupMembers('red')).toBe(true);

    expect(manager.leave(alice.connectionId, 'red')).toBe(true);
    expect(manager.leave(alice.connectionId, 'red')).toBe(false);
    expect(manager.hasGroupMembers('red')).toBe(true); // bob is still in it
    expect(manager.leave(bob.connectionId, 'red')).toBe(true);
    expect(manager.hasGroupMembers('red')).toBe(false);
    expect(alice.membershipChanges).toEqual(['+red', '+blue', '-red']);
    expect(bob.membershipChanges).toEqual(['+red', '-red']);

    // A connection in no group has no entry left to store or refresh.
    expect(manager.leave(alice.connectionId, 'blue')).toBe(true);
    expect(manager.groupsOf(alice.connectionId)).toBeUndefined();
    expect([...manager.connectionGroups.keys()]).toEqual([]);
  });

  it('leaves connections it does not hold alone', () => {
    expect(manager.join('elsewhere', 'red')).toBe(false);
    expect(manager.leave('elsewhere', 'red')).toBe(false);
    expect(manager.connection('elsewhere')).toBeUndefined();
    expect(manager.hasGroupMembers('red')).toBe(false);
  });

  it('refuses a join past the connection’s group limit, but not a group it is already in', () => {
    alice.maximumGroups = 1;
    manager.join(alice.connectionId, 'one');
    expect(manager.join(alice.connectionId, 'one')).toBe(false);
    expect(() => manager.join(alice.connectionId, 'two')).toThrow(expect.objectContaining({ code: SignalRErrorCode.TooManyGroups }));
    expect([...manager.groupsOf(alice.connectionId)!]).toEqual(['one']);
    expect(manager.hasGroupMembers('two')).toBe(false);
  });

  it('answers who is here, and forgets a connection with its groups and user when it ends', async () => {
    const aliceAgain = new FakeConnection('alice');
    await manager.onConnected(aliceAgain);
    manager.join(alice.connectionId, 'red');
    expect(manager.connection(alice.connectionId)).toBe(alice);
    expect(manager.hasUserConnections('alice')).toBe(true);

    await manager.onDisconnected(alice);
    expect(manager.connection(alice.connectionId)).toBeUndefined();
    expect(manager.groupsOf(alice.connectionId)).toBeUndefined();
    expect(manager.hasGroupMembers('red')).toBe(false);
    expect(manager.hasUserConnections('alice')).toBe(true);
    await manager.onDisconnected(aliceAgain);
    expect(manager.hasUserConnections('alice')).toBe(false);
    expect(manager.hasUserConnections('bob')).toBe(true);
  });

  it('keeps a newer connection under an id when the end of an older one with that id comes late', async () => {
    const older = Object.assign(new FakeConnection('carol'), { connectionId: 'same-id' });
    const newer = Object.assign(new FakeConnection('carol'), { connectionId: 'same-id' });
    await manager.onConnected(older);
    await manager.onConnected(newer);
    manager.join('same-id', 'red');
    await manager.onDisconnected(older);
    expect(manager.connection('same-id')).toBe(newer);
    expect([...manager.groupsOf('same-id')!]).toEqual(['red']);
    await manager.sendGroups(['red'], 'StillHere', []);
    expect(newer.targets()).toEqual(['StillHere']);
    expect(older.targets()).toEqual([]);
  });

  it('sends to groups and users once per connection, leaving out the excluded', async () => {
    manager.join(alice.connectionId, 'red');
    manager.join(alice.connectionId, 'blue');
    manager.join(bob.connectionId, 'blue');
    await manager.sendGroups(['red', 'blue'], 'Both', []);
    await manager.sendGroups(['red', 'blue'], 'NotBob', [], [bob.connectionId]);
    await manager.sendUsers(['alice', 'bob', 'alice'], 'Users', []);
    expect(alice.targets()).toEqual(['Both', 'NotBob', 'Users']);
    expect(bob.targets()).toEqual(['Both', 'Users']);
  });
});
