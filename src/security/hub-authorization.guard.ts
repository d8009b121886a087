import { Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { HubCallerContext } from '../hub/hub-caller-context.js';
import type { HubInvocationContext } from '../hub/hub-invocation-context.js';
import { rootModuleMissing } from '../errors/setup-errors.js';
import { HubAuthorizer } from './hub-authorizer.js';

/**
 * Applied by `@Hub` to every hub method, ahead of the application's own guards. A denial fails
 * the invocation with ASP.NET Core's "unauthorized" text and leaves the connection open.
 */
@Injectable()
export class HubAuthorizationGuard implements CanActivate {
  // Optional only so that a hub without SignalRModule.forRoot() fails with what to add.
  constructor(@Optional() private readonly authorizer: HubAuthorizer) {
    if (authorizer === undefined) throw rootModuleMissing('A @Hub class');
  }

  /** Whether this guard lets every invocation of `handler` through, so that it need not run. */
  alwaysAllows(hubClass: Function, handler: Function): boolean {
    return this.authorizer.allowsEveryone(hubClass, handler);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ws = context.switchToWs();
    const caller = ws.getClient<HubCallerContext>();
    const invocation = ws.getData<HubInvocationContext>();
    const outcome = await this.authorizer.authorizeMethod(context.getClass(), context.getHandler(), caller.user, {
      hubPath: caller.hubPath,
      method: invocation.target,
    });
    return outcome === 'allowed';
  }
}
