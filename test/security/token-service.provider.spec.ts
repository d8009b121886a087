import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { KEY_GENERATION_COMMAND } from '../../src/options/signalr-module-options.js';
import { CapturingLogger } from '../support/capturing-logger.js';
import { createTokenService } from '../../src/security/token-service.provider.js';

/** Where the warning goes: Nest's static logger, as in an application. */
const log = new CapturingLogger();
Logger.overrideLogger(log);

describe('the module key ring', () => {
  beforeEach(() => log.lines.splice(0));

  it.each(['production', 'staging', ''])('refuses to start without a key when NODE_ENV is "%s", saying how to make one', (environment) => {
    expect(() => createTokenService({}, environment)).toThrow(
      'nestjs-signalr: no key to seal connection tokens. Set the `keys` option to one or more 32-byte keys ' +
        `(make one with \`${KEY_GENERATION_COMMAND}\`). Only NODE_ENV=development or test makes a temporary key.`,
    );
  });

  it.each(['development', 'test'])('makes a temporary key in %s, with a warning that it lasts one process', (environment) => {
    expect(createTokenService({}, environment).usesGeneratedKey).toBe(true);
    expect(log.lines).toEqual([
      'No `keys` option: using a random key for this process only. Tokens will not survive a restart or work across nodes. SignalR:Security',
    ]);
  });

  it('takes keys as base64 strings or Buffers, the first one sealing', () => {
    const current = randomBytes(32);
    const previous = randomBytes(32);
    const old = createTokenService({ keys: [previous] }, 'production');
    const rotated = createTokenService({ keys: [current.toString('base64'), previous] }, 'production');
    const sealedBefore = old.seal('p', { v: 1 });
    expect(rotated.open('p', sealedBefore)).toEqual({ v: 1 });
    expect(old.open('p', rotated.seal('p', { v: 2 }))).toBeUndefined();
  });

  it('refuses keys that are not 32 bytes, without echoing them', () => {
    const short = randomBytes(16).toString('base64');
    let message = '';
    try {
      createTokenService({ keys: [short] }, 'production');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/32/);
    expect(message).not.toContain(short);
  });
});
