import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import { HubAuthorizationGuard } from '../../src/security/hub-authorization.guard.js';

describe('HubAuthorizationGuard', () => {
  it('refuses to exist without the root module, naming what to import', async () => {
    await expect(Test.createTestingModule({ providers: [HubAuthorizationGuard] }).compile()).rejects.toMatchObject({
      code: SignalRErrorCode.RootModuleMissing,
      message: expect.stringMatching(/^A @Hub class needs SignalRModule\.forRoot\(\), imported once in the root module/),
    });
  });
});
