import type { HubMethodDescriptor } from '../hub/hub-method-explorer.js';
import type { ProxyMethod, ProxyVisibility } from './proxy-visibility.js';

const TYPESCRIPT_NAMES = new Map<unknown, string>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
  [Array, 'unknown[]'],
]);

/**
 * Writes the client proxy of a hub for one user: an ES module of typed wrappers over a
 * `@microsoft/signalr` HubConnection, listing only the methods that user may call, so the
 * proxy never advertises what the caller cannot use (classic SignalR showed everything).
 */
export class HubProxyRenderer {
  constructor(
    private readonly hubClass: Function,
    private readonly hubPath: string,
    private readonly methods: readonly ProxyMethod[],
    private readonly visibility: ProxyVisibility,
  ) {}

  async visibleTo(user: unknown): Promise<HubMethodDescriptor[]> {
    const visible: HubMethodDescriptor[] = [];
    for (const method of this.methods) {
      if (await this.visibility.isVisible(method, user)) visible.push(method.descriptor);
    }
    return visible;
  }

  async javascript(user: unknown): Promise<string> {
    const methods = await this.visibleTo(user);
    const members = methods.map((method) => {
      const call = method.streaming ? 'stream' : 'invoke';
      return `    ${JSON.stringify(identifier(method.wireName))}: (...args) => connection.${call}(${JSON.stringify(method.wireName)}, ...args),`;
    });
    return [
      `// Client proxy for the hub at ${JSON.stringify(this.hubPath)}, generated for the requesting user by nestjs-signalr.`,
      `export const hubPath = ${JSON.stringify(this.hubPath)};`,
      '',
      '/** Wraps a started or not yet started @microsoft/signalr HubConnection. */',
      `export function ${this.factoryName()}(connection) {`,
      '  return Object.freeze({',
      ...members,
      '  });',
      '}',
      '',
    ].join('\n');
  }

  async typings(user: unknown): Promise<string> {
    const methods = await this.visibleTo(user);
    const interfaceName = `${this.baseName()}Proxy`;
    const members = methods.map((method) => {
      const params = method.argumentTypes.map((type, i) => `arg${i}: ${TYPESCRIPT_NAMES.get(type) ?? 'unknown'}`);
      const streams = method.uploadStreams.map((_, i) => `stream${i}: Subject<unknown>`);
      const result = method.streaming ? 'IStreamResult<unknown>' : 'Promise<unknown>';
      return `  ${JSON.stringify(identifier(method.wireName))}(${[...params, ...streams].join(', ')}): ${result};`;
    });
    return [
      "import type { HubConnection, IStreamResult, Subject } from '@microsoft/signalr';",
      '',
      `export declare const hubPath: ${JSON.stringify(this.hubPath)};`,
      '',
      `export interface ${interfaceName} {`,
      ...members,
      '}',
      '',
      `export declare function ${this.factoryName()}(connection: HubConnection): ${interfaceName};`,
      '',
    ].join('\n');
  }

  private baseName(): string {
    return this.hubClass.name.replace(/[^A-Za-z0-9_$]/g, '') || 'Hub';
  }

  private factoryName(): string {
    return `create${this.baseName()}Proxy`;
  }
}

/** camelCase of the wire name, as a property name the proxy exposes. */
function identifier(wireName: string): string {
  return wireName.charAt(0).toLowerCase() + wireName.slice(1);
}
