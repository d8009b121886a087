import type { CanActivate } from '@nestjs/common';
import type { HubMethodDescriptor } from '../hub/hub-method-explorer.js';
import type { UnknownGuards } from '../options/signalr-module-options.js';
import type { AuthorizationContext } from '../security/authorize.decorator.js';
import { HubAuthorizationGuard } from '../security/hub-authorization.guard.js';
import type { HubAuthorizer } from '../security/hub-authorizer.js';

/**
 * A guard that can say, for a user and without an invocation, whether it would let that user
 * call a method: client proxies ask it. A guard that cannot (it reads the arguments, counts
 * calls, looks at the connection) leaves its methods out of every proxy unless
 * `proxies: { unknownGuards: 'list' }`. `canActivate` alone decides invocations either way.
 */
export interface ProxyAwareGuard extends CanActivate {
  wouldAdmit(user: unknown, context: AuthorizationContext): boolean | Promise<boolean>;
}

export interface ProxyMethod {
  readonly descriptor: HubMethodDescriptor;
  /** The method function, whose `@Authorize` metadata decides who sees it. */
  readonly handler: Function;
  /** The guards Nest runs before the method; undefined when they could not be seen. */
  readonly guards: readonly CanActivate[] | undefined;
}

/**
 * Decides whether a user's proxy lists a method: `@Authorize` must allow the user, as at an
 * invocation, and so must every guard of the application that can be asked. Classic SignalR
 * listed every method to everyone; here a method is listed only when nothing known refuses.
 */
export class ProxyVisibility {
  constructor(
    private readonly hubClass: Function,
    private readonly hubPath: string,
    private readonly authorizer: HubAuthorizer,
    private readonly unknownGuards: UnknownGuards,
  ) {}

  async isVisible({ descriptor, handler, guards }: ProxyMethod, user: unknown): Promise<boolean> {
    const context: AuthorizationContext = { hubPath: this.hubPath, method: descriptor.wireName };
    if ((await this.authorizer.authorizeMethod(this.hubClass, handler, user, context)) !== 'allowed') return false;
    const listsUnknown = this.unknownGuards === 'list';
    if (guards === undefined) return listsUnknown;
    for (const guard of guards) {
      // The package's own guard is the `@Authorize` check above.
      if (guard instanceof HubAuthorizationGuard) continue;
      if (isProxyAware(guard) ? !(await guard.wouldAdmit(user, context)) : !listsUnknown) return false;
    }
    return true;
  }
}

function isProxyAware(guard: CanActivate): guard is ProxyAwareGuard {
  return typeof (guard as Partial<ProxyAwareGuard>).wouldAdmit === 'function';
}
