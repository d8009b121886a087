/** A hub as one requester's proxy shows it: its classic name and the methods that requester may call. */
export interface ProxiedHub {
  readonly name: string;
  readonly methods: readonly string[];
}

/** The proxy names a method as classic SignalR's did: its first letter lower-cased. */
const proxyMethodName = (wireName: string) => wireName.charAt(0).toLowerCase() + wireName.slice(1);

/**
 * The generated hub proxy of `{path}/hubs`, in the shape classic SignalR's generator gave it:
 * `$.connection.<hub>.server.<method>(...)` and `$.connection.<hub>.client` handlers registered
 * when the connection starts. Only what the requester may call is in it.
 */
export function renderClassicProxy(path: string, hubs: readonly ProxiedHub[]): string {
  const proxies = hubs.map(({ name, methods }) => {
    const key = JSON.stringify(name);
    const server = methods.map(
      (method) =>
        `      ${JSON.stringify(proxyMethodName(method))}: function () {\n` +
        `        return proxies[${key}].invoke.apply(proxies[${key}], $.merge([${JSON.stringify(method)}], $.makeArray(arguments)));\n` +
        '      }',
    );
    return [
      `    proxies[${key}] = this.createHubProxy(${key});`,
      `    proxies[${key}].client = {};`,
      `    proxies[${key}].server = {\n${server.join(',\n')}\n    };`,
    ].join('\n');
  });
  return `/* Hub proxies for the classic endpoint at ${JSON.stringify(path)}, generated for the requesting user by nestjs-signalr. */
(function ($, window) {
  "use strict";
  if (typeof ($.signalR) !== "function") {
    throw new Error("SignalR: SignalR is not loaded. Please ensure jquery.signalR-x.js is referenced before ${path}/hubs.");
  }
  var signalR = $.signalR;
  function makeProxyCallback(hub, callback) {
    return function () { callback.apply(hub, $.makeArray(arguments)); };
  }
  function registerHubProxies(instance, shouldSubscribe) {
    var key, hub, memberKey, memberValue, subscribe;
    for (key in instance) {
      if (!instance.hasOwnProperty(key)) { continue; }
      hub = instance[key];
      if (!hub.hubName) { continue; }
      subscribe = shouldSubscribe ? hub.on : hub.off;
      for (memberKey in hub.client) {
        if (!hub.client.hasOwnProperty(memberKey)) { continue; }
        memberValue = hub.client[memberKey];
        if (typeof memberValue !== "function") { continue; }
        subscribe.call(hub, memberKey, makeProxyCallback(hub, memberValue));
      }
    }
  }
  $.hubConnection.prototype.createHubProxies = function () {
    var proxies = {};
    this.starting(function () {
      registerHubProxies(proxies, true);
      this._registerSubscribedHubs();
    }).disconnected(function () {
      registerHubProxies(proxies, false);
    });
${proxies.join('\n')}
    return proxies;
  };
  signalR.hub = $.hubConnection(${JSON.stringify(path)}, { useDefaultPath: false });
  $.extend(signalR, signalR.hub.createHubProxies());
}(window.jQuery, window));
`;
}
