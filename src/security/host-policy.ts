import { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { SignalRError, SignalRErrorCode } from '../errors/signalr-error-codes.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';
import { listOf, type OptionRules } from '../options/option-rules.js';

export interface HostPolicyOptions {
  /**
   * The hosts this server is reached under, as a browser writes them in `Host`: `'name'` (the
   * scheme's default port only), `'name:port'`, or `'name:*'` (any port); names are DNS names,
   * IPv4 addresses or bracketed IPv6 addresses, matched case-insensitively. A hub request with
   * any other Host is refused with 400 before any hub code runs, which is what makes the
   * same-origin check (Origin against Host) hold against DNS rebinding. `['*']`: any Host, said
   * explicitly.
   * @default unset: any Host (a warning at start-up when NODE_ENV is `production`)
   */
  readonly allowedHosts?: readonly string[];
}

export const HOST_POLICY_OPTION_RULES: OptionRules<HostPolicyOptions> = {
  allowedHosts: listOf((entry) => (entry === ANY || parseEntry(entry) ? undefined : `is ${JSON.stringify(entry)}, not ${HOST_ENTRY}`), 'hosts'),
};

export const HOST_NOT_ALLOWED = 'The Host header names a host this server does not serve.';
export const HOST_MISSING_OR_REPEATED = 'A request must carry exactly one Host header.';

/** However many requests are refused, at most one warning this often. */
const REFUSAL_WARNING_INTERVAL_MS = 10_000;
const ANY = '*';
// RFC 3986's reg-name (ASCII), IPv4 or bracketed IPv6, then an optional port; the length bounds
// the work done on hostile headers (a DNS name has at most 253 characters).
const MAX_HOST_LENGTH = 270;
const NAME = String.raw`(?<name>[a-z0-9.-]+|\[[0-9a-f:.]+\])`;
const HOST = new RegExp(String.raw`^${NAME}(?::(?<port>\d{1,5}))?$`, 'i');
/** An entry of the list: a host, whose port may also be `*`. */
const ENTRY = new RegExp(String.raw`^${NAME}(?::(?<port>\d{1,5}|\*))?$`, 'i');
const HOST_ENTRY = "a host as 'name', 'name:port' or 'name:*' (a DNS name, IPv4 or [IPv6] address; no scheme or path)";

/** A port of an entry: a number, the request scheme's default (none written), or any. */
type EntryPort = number | 'default' | 'any';

/**
 * Decides whether a request's `Host` names this server. A page on a name the attacker controls,
 * re-pointed at this server's address (DNS rebinding), sends its own name in both Host and
 * Origin: only a list of this server's names tells it from a same-origin page.
 */
export class HostPolicy {
  /** Whether any Host is refused at all; unset or `['*']` refuses none. */
  readonly restricts: boolean;
  private readonly allowed = new Map<string, EntryPort[]>();
  private readonly warning: ThrottledWarning;

  constructor(options: HostPolicyOptions = {}, logger: Pick<Logger, 'warn'> = new Logger('SignalR:Security')) {
    const entries = options.allowedHosts;
    if (entries !== undefined && !Array.isArray(entries)) invalid(entries, 'a list of hosts');
    this.restricts = entries !== undefined && !entries.includes(ANY);
    // Checked even beside '*', so that a typo fails the start rather than wait for '*' to go.
    for (const entry of entries?.filter((listed) => listed !== ANY) ?? []) {
      const { name, port } = configuredEntry(entry);
      this.allowed.set(name, [...(this.allowed.get(name) ?? []), port]);
    }
    this.warning = new ThrottledWarning(logger, REFUSAL_WARNING_INTERVAL_MS);
  }

  /**
   * The body of the 400 a request must meet when its Host is not one this server serves, the
   * reason logged (throttled); undefined when it may go on.
   */
  refusal(request: IncomingMessage, requestIsSecure: boolean, hubPath: string): string | undefined {
    if (!this.restricts) return undefined;
    // RFC 9112 (3.2): a request without Host, or with two, is answered 400; Node keeps only the first of two.
    const hosts = request.rawHeaders.filter((_, i) => i % 2 === 0 && request.rawHeaders[i].toLowerCase() === 'host').length;
    if (hosts !== 1) return this.refuse(HOST_MISSING_OR_REPEATED, `Refused a request to ${hubPath}: ${hosts} Host headers.`);
    const host = parseHost(request.headers.host!);
    if (host === undefined) return this.refuse(HOST_NOT_ALLOWED, `Refused a request to ${hubPath}: its Host header is not a host[:port].`);
    const defaultPort = requestIsSecure ? 443 : 80;
    const port = host.port ?? defaultPort;
    const admits = (entry: EntryPort) => entry === 'any' || entry === port || (entry === 'default' && port === defaultPort);
    if (this.allowed.get(host.name)?.some(admits)) return undefined;
    // Safe to log: a parsed host holds only name and port characters.
    return this.refuse(HOST_NOT_ALLOWED, `Refused a request to ${hubPath}: Host ${host.name}:${port} is not in allowedHosts.`);
  }

  private refuse(body: string, why: string): string {
    this.warning.warn(why);
    return body;
  }
}

/** Name normalized as browsers do (lower case, IPv4 and IPv6 in canonical form); undefined when not a host. */
function parseHost(text: string): { name: string; port: number | undefined } | undefined {
  const groups = text.length <= MAX_HOST_LENGTH ? HOST.exec(text)?.groups : undefined;
  if (!groups) return undefined;
  const name = canonicalName(groups.name);
  const port = groups.port === undefined ? undefined : Number(groups.port);
  return name === undefined || (port !== undefined && port > 65_535) ? undefined : { name, port };
}

function configuredEntry(entry: unknown): { name: string; port: EntryPort } {
  return parseEntry(entry) ?? invalid(entry, HOST_ENTRY);
}

function parseEntry(entry: unknown): { name: string; port: EntryPort } | undefined {
  // Configuration often comes from untyped JSON or environment variables.
  const groups = typeof entry === 'string' && entry.length <= MAX_HOST_LENGTH ? ENTRY.exec(entry)?.groups : undefined;
  const name = groups && canonicalName(groups.name);
  const port: EntryPort | undefined = groups?.port === undefined ? 'default' : groups.port === ANY ? 'any' : Number(groups.port);
  return name === undefined || (typeof port === 'number' && port > 65_535) ? undefined : { name, port };
}

function canonicalName(name: string): string | undefined {
  const url = `http://${name}`;
  // The shape can be right and the content not, e.g. an invalid IPv6 address.
  return URL.canParse(url) ? new URL(url).hostname : undefined;
}

function invalid(entry: unknown, expected: string): never {
  throw new SignalRError(SignalRErrorCode.InvalidOption, `Option 'allowedHosts' has ${JSON.stringify(entry)}: expected ${expected}.`);
}
