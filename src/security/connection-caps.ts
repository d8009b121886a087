import { Logger } from '@nestjs/common';
import { ThrottledWarning } from '../logging/throttled-warning.js';
import type { ConnectionCapOptions } from '../options/signalr-module-options.js';
import type { RefusalMeter, RefusalStage } from '../telemetry/meters.js';
import { refusal, type Refusal } from './hub-gatekeeper.js';

/** What a client over a cap may wait before trying again: about the time a reconnecting client waits. */
export const CONNECTION_CAP_RETRY_AFTER_SECONDS = 10;

/** However many connections are refused, each cap logs at most one warning this often. */
const REFUSAL_WARNING_INTERVAL_MS = 10_000;

/** A live connection's place under the caps; releasing it more than once releases it once. */
export interface ConnectionSlot {
  readonly admitted: true;
  release(): void;
}

type CapName = keyof ConnectionCapOptions;
interface Keys {
  readonly user: string | undefined;
  readonly address: string | undefined;
}

/** The client's own caps first: they stay in force however empty the server gets. */
const CAPS: readonly { name: CapName; status: number; body: string }[] = [
  { name: 'maximumConnectionsPerUser', status: 429, body: 'Too many connections for this user.' },
  { name: 'maximumConnectionsPerAddress', status: 429, body: 'Too many connections from this address.' },
  { name: 'maximumConnections', status: 503, body: 'This server has reached its connection limit.' },
];

/**
 * Counts the live connections of a node, in total, per user and per client address, and refuses
 * a new one over any cap the module sets. Users and addresses are counted only under a set cap.
 */
export class ConnectionCaps {
  private total = 0;
  private readonly perUser = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();
  private readonly warnings: ReadonlyMap<CapName, ThrottledWarning>;

  constructor(
    private readonly caps: Readonly<ConnectionCapOptions>,
    logger: Pick<Logger, 'warn'> = new Logger('SignalR:Security'),
    /** Present while metrics are on. */
    private readonly refusals?: RefusalMeter,
  ) {
    this.warnings = new Map(CAPS.map(({ name }) => [name, new ThrottledWarning(logger, REFUSAL_WARNING_INTERVAL_MS)]));
  }

  /** The refusal a new connection would meet now, taking nothing: negotiate refuses early with it. */
  check(hubPath: string, userKey: string | undefined, address: string | undefined): Refusal | undefined {
    return this.refusal(hubPath, this.keysOf(userKey, address), 'negotiate');
  }

  /** Checks and takes a slot in one step, so that connections arriving together cannot overshoot. */
  take(hubPath: string, userKey: string | undefined, address: string | undefined): ConnectionSlot | Refusal {
    const keys = this.keysOf(userKey, address);
    const refused = this.refusal(hubPath, keys, 'connect');
    if (refused) return refused;
    this.count(keys, 1);
    return new HeldSlot(this, keys.user, keys.address);
  }

  /** Once per slot, by the slot itself. */
  giveBack(keys: Keys): void {
    this.count(keys, -1);
  }

  /** What each cap counts the connection under; an unset cap counts nothing. */
  private keysOf(userKey: string | undefined, address: string | undefined): Keys {
    return {
      user: this.caps.maximumConnectionsPerUser === undefined ? undefined : userKey,
      address: this.caps.maximumConnectionsPerAddress === undefined ? undefined : address,
    };
  }

  private refusal(hubPath: string, keys: Keys, stage: RefusalStage): Refusal | undefined {
    const counts: Record<CapName, number> = {
      maximumConnectionsPerUser: countOf(this.perUser, keys.user),
      maximumConnectionsPerAddress: countOf(this.perAddress, keys.address),
      maximumConnections: this.total,
    };
    const over = CAPS.find(({ name }) => counts[name] >= (this.caps[name] ?? Infinity));
    if (!over) return undefined;
    this.refusals?.refused('limit', stage);
    this.warnings.get(over.name)!.warn(`Refused a connection to ${hubPath}: ${over.name} (${this.caps[over.name]}) reached.`);
    return refusal(over.status, over.body, { 'Retry-After': String(CONNECTION_CAP_RETRY_AFTER_SECONDS) });
  }

  private count(keys: Keys, delta: 1 | -1): void {
    this.total += delta;
    add(this.perUser, keys.user, delta);
    add(this.perAddress, keys.address, delta);
  }
}

/** An object rather than a closure: every live connection holds one. */
class HeldSlot implements ConnectionSlot {
  readonly admitted = true;
  private held = true;

  constructor(
    private readonly caps: ConnectionCaps,
    readonly user: string | undefined,
    readonly address: string | undefined,
  ) {}

  release(): void {
    if (this.held) this.caps.giveBack(this);
    this.held = false;
  }
}

function countOf(counts: Map<string, number>, key: string | undefined): number {
  return key === undefined ? 0 : (counts.get(key) ?? 0);
}

/** Keys whose count falls to zero are dropped, so that the maps hold only live users and addresses. */
function add(counts: Map<string, number>, key: string | undefined, delta: 1 | -1): void {
  if (key === undefined) return;
  const count = (counts.get(key) ?? 0) + delta;
  if (count === 0) counts.delete(key);
  else counts.set(key, count);
}
