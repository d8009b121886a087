import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { flag, listOf, type OptionRules } from '../options/option-rules.js';

export interface TransportSecurityOptions {
  /** Refuse requests that did not arrive over TLS (https/wss), except from loopback. Default false. */
  readonly requireSecureTransport?: boolean;
  /**
   * IP addresses of the reverse proxies in front of this server, whose `X-Forwarded-Proto` and
   * `X-Forwarded-For` are believed. A proxy on the same host must be listed too, or everything
   * it forwards counts as loopback and is exempt from `requireSecureTransport`.
   */
  readonly trustedProxies?: readonly string[];
}

export const TRANSPORT_SECURITY_OPTION_RULES: OptionRules<TransportSecurityOptions> = {
  requireSecureTransport: flag,
  trustedProxies: listOf((entry) => (typeof entry === 'string' && ipFamily(entry) ? undefined : `is ${JSON.stringify(entry)}, not an IP address`), 'IP addresses'),
};

// BlockList also matches IPv4-mapped IPv6 peers such as '::ffff:127.0.0.1' against IPv4 entries.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Tells TLS requests from plain-text ones, directly or through trusted TLS-terminating proxies. */
export class TransportSecurity {
  private readonly requireSecureTransport: boolean;
  private readonly trustedProxies = new BlockList();
  /** Most deployments list none: then no request needs its peer address parsed at all. */
  private readonly hasTrustedProxies: boolean;

  constructor(options: TransportSecurityOptions = {}) {
    this.requireSecureTransport = options.requireSecureTransport ?? false;
    for (const proxy of options.trustedProxies ?? []) {
      const family = ipFamily(proxy);
      if (family === undefined) {
        throw new Error(
          `TransportSecurity: trustedProxies entry ${JSON.stringify(proxy)} is not an IP address. ` +
            'List each proxy by its address, without host name, port or prefix length.',
        );
      }
      this.trustedProxies.addAddress(proxy, family);
    }
    this.hasTrustedProxies = (options.trustedProxies ?? []).length > 0;
  }

  isSecure(request: IncomingMessage): boolean {
    if (isTlsSocket(request.socket)) return true;
    return this.isFromTrustedProxy(request) && lastForwarded(request, 'x-forwarded-proto')?.toLowerCase() === 'https';
  }

  /**
   * The client's address: the peer's, or the one a trusted proxy appended to X-Forwarded-For.
   * Undefined once the socket is gone.
   */
  clientAddress(request: IncomingMessage): string | undefined {
    const peer = request.socket.remoteAddress;
    if (!this.isFromTrustedProxy(request)) return peer;
    const forwarded = lastForwarded(request, 'x-forwarded-for');
    return forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : peer;
  }

  /** Why the request must be refused (the caller answers 403), or undefined when it may proceed. */
  refusal(request: IncomingMessage): string | undefined {
    if (!this.requireSecureTransport || this.isSecure(request)) return undefined;
    // Loopback traffic never crosses a network; a trusted proxy, though, speaks for remote clients.
    if (!this.isFromTrustedProxy(request) && inList(LOOPBACK, request.socket.remoteAddress)) return undefined;
    return 'Plain-text request refused: secure transport (https/wss) is required.';
  }

  private isFromTrustedProxy(request: IncomingMessage): boolean {
    return this.hasTrustedProxies && inList(this.trustedProxies, request.socket.remoteAddress);
  }
}

function isTlsSocket(socket: IncomingMessage['socket']): boolean {
  return (socket as { encrypted?: unknown }).encrypted === true;
}

/**
 * Proxies append to X-Forwarded-Proto and X-Forwarded-For, so only the last value was written by
 * our trusted peer; earlier ones come from hops further away, possibly the client itself. When
 * the peer saw plain http, or the address of an inner proxy, that is what counts: no proxy beyond
 * our peer is vouched for.
 */
function lastForwarded(request: IncomingMessage, name: 'x-forwarded-proto' | 'x-forwarded-for'): string | undefined {
  // Node joins repeated X-Forwarded-* headers with ', ' (only Set-Cookie stays an array).
  const values = request.headers[name] as string | undefined;
  return values?.split(',').at(-1)?.trim();
}

function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  if (version === 0) return undefined;
  return version === 4 ? 'ipv4' : 'ipv6';
}

function inList(list: BlockList, address: string | undefined): boolean {
  if (address === undefined) return false;
  const family = ipFamily(address);
  return family !== undefined && list.check(address, family);
}
