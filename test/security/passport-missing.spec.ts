import { describe, expect, it, vi } from 'vitest';
import { PassportAuthenticator } from '../../src/security/passport-authenticator.js';

// Passport is an optional peer: an application without it that names strategies must learn what to install.
vi.mock('passport', () => {
  throw new Error("Cannot find package 'passport'");
});

describe('PassportAuthenticator without passport installed', () => {
  it('says which packages authStrategies needs', async () => {
    await expect(PassportAuthenticator.create(['jwt'])).rejects.toThrow(
      "nestjs-signalr: 'authStrategies' needs the 'passport' and '@nestjs/passport' packages installed.",
    );
  });
});
