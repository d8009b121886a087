import { describe, expect, it } from 'vitest';
import { HubRegistration } from '../../src/connection/hub-registration.js';
import type { HubLifetimeManager } from '../../src/lifetime/hub-lifetime-manager.js';
import { bareRuntime } from '../support/loopback.js';

/** A registration whose lifetime manager and hub write down what they hear; `failing` names who throws. */
function registration(failing?: 'onConnected' | 'onDisconnected'): { registration: HubRegistration; heard: string[] } {
  const heard: string[] = [];
  const hear = (what: string) => async () => {
    heard.push(what);
    if (what === failing) throw new Error(`${what} failed`);
  };
  const lifetimeManager = { onConnected: hear('registered'), onDisconnected: hear('unregistered') } as unknown as HubLifetimeManager;
  const runtime = bareRuntime({}, { lifetimeManager, onConnected: hear('onConnected'), onDisconnected: hear('onDisconnected') });
  return { registration: new HubRegistration(runtime, { connectionId: 'c1' } as never), heard };
}

describe('HubRegistration', () => {
  it('tells the lifetime manager and the hub of the end once each, however often it is asked', async () => {
    const { registration: subject, heard } = registration();
    await subject.enter(() => true);
    await subject.leave();
    await subject.leave();
    expect(heard).toEqual(['registered', 'onConnected', 'unregistered', 'onDisconnected']);
  });

  it('does not run onConnected for a connection that closed while it registered, nor onDisconnected after', async () => {
    const { registration: subject, heard } = registration();
    await subject.enter(() => false);
    await subject.leave();
    expect(heard).toEqual(['registered', 'unregistered']);
  });

  it('owes the hub no onDisconnected when its onConnected threw', async () => {
    const { registration: subject, heard } = registration('onConnected');
    await expect(subject.enter(() => true)).rejects.toThrow('onConnected failed');
    await subject.leave();
    expect(heard).toEqual(['registered', 'onConnected', 'unregistered']);
  });

  it('keeps a failing onDisconnected from escaping the end of the connection', async () => {
    const { registration: subject, heard } = registration('onDisconnected');
    await subject.enter(() => true);
    await expect(subject.leave()).resolves.toBeUndefined();
    expect(heard).toEqual(['registered', 'onConnected', 'unregistered', 'onDisconnected']);
  });
});
