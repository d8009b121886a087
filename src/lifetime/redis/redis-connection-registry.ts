import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { ClaimOutcome, ConnectionRegistry, ConnectionRegistryFactory, TakeOverOutcome } from '../../security/connection-registry.js';
import { InProcessConnectionRegistry } from '../../security/in-process-connection-registry.js';
import { NodeYields } from './node-yields.js';
import { RedisChannels } from './redis-channels.js';
import { assertReady, closeRedisClient, createCommandClient, type RedisClient } from './redis-clients.js';
import { DEFAULT_REDIS_CHANNEL_PREFIX, validateOptions, type RedisLifetimeManagerOptions } from './redis-lifetime-manager-options.js';
import { ThrottledWarning } from '../../logging/throttled-warning.js';

// One string per connection id: `ended`, or `live|<node>|<membership version or empty>`. Each script
// reads and writes it atomically, so two nodes racing for one id cannot both win a claim.
const CLAIM = `
if redis.call('SET', KEYS[1], 'live|' .. ARGV[1] .. '|', 'NX', 'PX', ARGV[2]) then return 'claimed' end
local value = redis.call('GET', KEYS[1])
if value == 'ended' then return 'ended' end
return 'live'`;

// Takes the connection unless it ended, or (with ARGV[3] = 'ask') unless another node holds it:
// then that node is named, for this one to ask it to let go first.
const TAKE_OVER = `
local value = redis.call('GET', KEYS[1])
if value == 'ended' then return {0, '', ''} end
local holder, version = '', ''
if value then holder, version = string.match(value, '^live|([^|]*)|(.*)$') end
if ARGV[3] == 'ask' and holder and holder ~= '' and holder ~= ARGV[1] then return {2, version or '', holder} end
redis.call('SET', KEYS[1], 'live|' .. ARGV[1] .. '|' .. (version or ''), 'PX', ARGV[2])
return {1, version or '', ''}`;

// A node may only write for a connection it holds: after another node took the connection over,
// the first node's late writes and its end must not undo the takeover.
const RECORD_MEMBERSHIP = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 6) ~= 'live|' .. ARGV[1] .. '|' then return 0 end
redis.call('SET', KEYS[1], 'live|' .. ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1`;

const END = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 6) ~= 'live|' .. ARGV[1] .. '|' then return 0 end
redis.call('SET', KEYS[1], 'ended', 'PX', ARGV[2])
return 1`;

/** How often a Redis failure is logged at most, so an outage does not flood the log. */
const WARNING_INTERVAL_MS = 10_000;

/** How long a takeover waits for a Redis connection still being set up. */
const READY_WAIT_MS = 2_000;
/** How long the application's start waits for Redis before serving without it. */
const STARTUP_WAIT_MS = 5_000;

/** How long a takeover waits for the node holding the connection to let it go: a client's reconnect is waiting. */
const YIELD_WAIT_MS = 2_000;

async function readyWithin(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready' || client.status === 'end') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
    function done() {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    }
  });
}

/**
 * The registry shared by every node on one Redis: an id ended on one node is refused on all, and
 * a connection that resumes on another node finds its membership version there.
 *
 * While Redis is unreachable, claims and ends fall back to this node's own record (new
 * connections keep working; another node's ended ids are unknown meanwhile), and takeovers are
 * refused: resuming a connection without knowing whether it ended would trade safety for
 * availability.
 */
export class RedisConnectionRegistry implements ConnectionRegistry {
  private readonly node = randomUUID();
  private readonly local = new InProcessConnectionRegistry();
  private readonly warning = new ThrottledWarning(new Logger('SignalR:Redis'), WARNING_INTERVAL_MS);
  private readonly yields: NodeYields;

  constructor(
    private readonly client: RedisClient,
    /** Prepended to every key: `${keyPrefix}${connectionId}`. */
    private readonly keyPrefix: string,
    /** Whether the registry has the client to itself: then it reports the client's errors and closes it. */
    private readonly ownsClient = false,
  ) {
    if (ownsClient) client.on('error', (error: Error) => this.warning.warn(`Connection registry's Redis: ${error.message}`));
    this.yields = new NodeYields(client, keyPrefix, this.node, this.warning);
  }

  onYield(handler: (connectionId: string) => void): void {
    void this.yields.listen(handler).catch((error: Error) => this.warn('listen for other nodes taking connections over', error));
  }

  async claim(connectionId: string, holdMs: number): Promise<ClaimOutcome> {
    try {
      const outcome = (await this.run(CLAIM, connectionId, this.node, holdMs)) as ClaimOutcome;
      if (outcome === 'claimed') await this.local.claim(connectionId, holdMs);
      return outcome;
    } catch (error) {
      this.warn('claim a connection id', error);
      return this.local.claim(connectionId, holdMs);
    }
  }

  async takeOver(connectionId: string, holdMs: number): Promise<TakeOverOutcome> {
    if ((await this.local.takeOver(connectionId, holdMs)) === 'ended') return 'ended';
    // A node that just started may not be connected yet; a resuming client cannot wait long.
    await readyWithin(this.client, READY_WAIT_MS);
    let [taken, version, holder] = (await this.run(TAKE_OVER, connectionId, this.node, holdMs, 'ask')) as [number, string, string];
    if (taken === 2) {
      // Another node holds it: if that node is up, it lets go before this one takes it.
      if ((await this.yields.isUp(holder)) && !(await this.yields.ask(holder, connectionId, YIELD_WAIT_MS))) return 'busy';
      [taken, version] = (await this.run(TAKE_OVER, connectionId, this.node, holdMs, 'take')) as [number, string, string];
    }
    if (!taken) return 'ended';
    return { membershipVersion: version === '' ? undefined : Number(version) };
  }

  async recordMembership(connectionId: string, membershipVersion: number, holdMs: number): Promise<void> {
    await this.local.recordMembership(connectionId, membershipVersion, holdMs);
    try {
      await this.run(RECORD_MEMBERSHIP, connectionId, this.node, membershipVersion, holdMs);
    } catch (error) {
      this.warn('record a membership version', error);
    }
  }

  async end(connectionId: string, keepMs: number): Promise<void> {
    await this.local.end(connectionId, keepMs);
    try {
      await this.run(END, connectionId, this.node, keepMs);
    } catch (error) {
      this.warn('record the end of a connection', error);
    }
  }

  async ready(): Promise<void> {
    await readyWithin(this.client, STARTUP_WAIT_MS);
    if (this.client.status !== 'ready') this.warning.warn('Redis is not reachable yet: connection ids are checked on this node only until it is.');
  }

  async dispose(): Promise<void> {
    await this.yields.dispose();
    await this.local.dispose();
    if (this.ownsClient) await closeRedisClient(this.client);
  }

  private async run(script: string, connectionId: string, ...args: (string | number)[]): Promise<unknown> {
    assertReady(this.client);
    return this.client.eval(script, 1, `${this.keyPrefix}${connectionId}`, ...args);
  }

  private warn(action: string, error: unknown): void {
    this.warning.warn(`Could not ${action} in Redis: ${(error as Error).message}`);
  }
}

/**
 * A shared registry without the backplane, for nodes that route in-process (sticky sessions, or
 * one node restarted by deploys): `SignalRModule.forRoot({ connectionRegistry: redisConnectionRegistry({ url }) })`.
 * `redisLifetimeManager` brings its own; this is for when it is not used.
 */
export function redisConnectionRegistry(
  options: Pick<RedisLifetimeManagerOptions, 'url' | 'redis' | 'cluster' | 'channelPrefix' | 'commandTimeoutMs'> = {},
): ConnectionRegistryFactory {
  validateOptions(options);
  return (hubPath) => {
    const client = createCommandClient(options);
    const channels = new RedisChannels(options.channelPrefix ?? DEFAULT_REDIS_CHANNEL_PREFIX, hubPath);
    return new RedisConnectionRegistry(client, channels.connectionStatePrefix, true);
  };
}
