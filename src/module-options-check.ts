import { HUB_OPTION_RULES, hubOptionProblems, mergeHubOptions } from './options/hub-options.js';
import { invalidOptions, optionProblems, parsedBy, type OptionRules } from './options/option-rules.js';
import { MODULE_OWN_OPTION_RULES, type SignalRModuleOptions } from './options/signalr-module-options.js';
import { HOST_POLICY_OPTION_RULES } from './security/host-policy.js';
import { keyRingOf } from './security/key-ring.js';
import { ORIGIN_POLICY_OPTION_RULES, OriginPolicy } from './security/origin-policy.js';
import { TRANSPORT_SECURITY_OPTION_RULES } from './security/transport-security.js';
import { USER_IDENTITY_OPTION_RULES } from './security/user-identity.js';
import { CONNECTION_REQUEST_OPTION_RULES } from './transport/connection-request-capture.js';

/** Every option `forRoot` knows, from the declaration beside each interface the options extend. */
export const MODULE_OPTION_RULES: OptionRules<SignalRModuleOptions> = {
  ...HUB_OPTION_RULES,
  ...USER_IDENTITY_OPTION_RULES,
  ...HOST_POLICY_OPTION_RULES,
  ...ORIGIN_POLICY_OPTION_RULES,
  ...TRANSPORT_SECURITY_OPTION_RULES,
  ...CONNECTION_REQUEST_OPTION_RULES,
  ...MODULE_OWN_OPTION_RULES,
};

/**
 * The module's options, once every one of them is known, of its type and in its range, and they
 * fit together; otherwise one error, at start-up, that lists every problem.
 */
export function checkModuleOptions(options: unknown): SignalRModuleOptions {
  const problems = optionProblems(MODULE_OPTION_RULES, options);
  // How options fit together is only asked of options that each make sense.
  if (problems.length === 0) problems.push(...relationProblems((options ?? {}) as SignalRModuleOptions));
  if (problems.length > 0) throw invalidOptions('SignalRModule.forRoot()', problems);
  return options as SignalRModuleOptions;
}

function relationProblems(options: SignalRModuleOptions): string[] {
  const { keys } = options;
  const keyRing = keys?.length ? parsedBy(() => keyRingOf(keys))(keys) : undefined;
  const origins = parsedBy(() => new OriginPolicy(options))(options);
  return [
    ...(keyRing === undefined ? [] : [`'keys': ${keyRing}`]),
    ...(origins === undefined ? [] : [origins]),
    ...hubOptionProblems(mergeHubOptions(options)),
  ];
}
