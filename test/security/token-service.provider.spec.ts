import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/security/token-service.provider.js';

describe('the module key ring', () => {
  it.each(['production', 'staging', ''])('refuses to start without a key when NODE_ENV is "%s"', (environment) => {
    expect(() => createTokenService({}, environment)).toThrow(/no key to seal connection tokens/);
  });

  it.each(['development', 'test'])('makes a temporary key in %s', (environment) => {
    expect(createTokenService({}, environment).usesGeneratedKey).toBe(true);
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
