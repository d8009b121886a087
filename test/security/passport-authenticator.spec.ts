import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import passport from 'passport';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import { describe, expect, it } from 'vitest';
import { PassportAuthenticator } from '../../src/security/passport-authenticator.js';

/** Answers as the X-Outcome header says, the way strategies answer Passport. */
class OutcomeStrategy extends PassportStrategyBase {
  name = 'authenticator-spec-outcome';

  override authenticate(request: IncomingMessage): void {
    const outcome = request.headers['x-outcome'];
    if (outcome === 'success') this.success({ sub: 'alice' }, { scope: 'chat' });
    else if (outcome === 'error') this.error(new Error('the user store is down'));
    else if (outcome === 'pass') this.pass();
    else this.fail(401);
  }
}
passport.use(new OutcomeStrategy());

const requestWith = (headers: Record<string, string>): IncomingMessage => Object.assign(new IncomingMessage(new Socket()), { headers });

describe('PassportAuthenticator', () => {
  it('hands over the user and info a strategy accepts', async () => {
    const authenticator = await PassportAuthenticator.create(['authenticator-spec-outcome']);
    await expect(authenticator.authenticate(requestWith({ 'x-outcome': 'success' }))).resolves.toEqual({
      user: { sub: 'alice' },
      info: { scope: 'chat' },
    });
  });

  it('makes a request every strategy refuses, or passes on, anonymous', async () => {
    const authenticator = await PassportAuthenticator.create(['authenticator-spec-outcome']);
    await expect(authenticator.authenticate(requestWith({}))).resolves.toMatchObject({ user: undefined });
    await expect(authenticator.authenticate(requestWith({ 'x-outcome': 'pass' }))).resolves.toEqual({ user: undefined, info: undefined });
  });

  it('rejects, never anonymous, when a strategy errs or is unknown to Passport', async () => {
    const authenticator = await PassportAuthenticator.create(['authenticator-spec-outcome']);
    await expect(authenticator.authenticate(requestWith({ 'x-outcome': 'error' }))).rejects.toThrow('the user store is down');
    const unknown = await PassportAuthenticator.create(['authenticator-spec-unknown']);
    await expect(unknown.authenticate(requestWith({}))).rejects.toThrow('Unknown authentication strategy');
  });

  it('names the configured strategies Passport does not know, and those it does (but its own session)', async () => {
    const authenticator = await PassportAuthenticator.create(['authenticator-spec-outcome', 'authenticator-spec-unknown']);
    const { unregistered, registered } = authenticator.unregisteredStrategies();
    expect(unregistered).toEqual(['authenticator-spec-unknown']);
    expect(registered).toContain('authenticator-spec-outcome');
    expect(registered).not.toContain('session');
  });
});
