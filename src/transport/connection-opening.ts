import type { HubConnection } from '../connection/hub-connection.js';
import type { ConnectionCaps, ConnectionSlot } from '../security/connection-caps.js';
import { CONNECTION_IN_USE, UNKNOWN_CONNECTION, type ClaimedConnection } from '../security/connection-claim.js';
import type { ConnectionRegistry } from '../security/connection-registry.js';
import { refusal, type Admitted, type Refusal } from '../security/hub-gatekeeper.js';

/** A refusal and why, for the log; the client learns only the status and the text. */
export type ExplainedRefusal = Refusal & { readonly reason: string };

/**
 * Runs `start` holding a slot under the caps, taken before the registry hears of the id: the
 * connection `start` opens keeps the slot until it is forgotten; a refusal gives it back.
 * Returns the caps' refusal when they have no slot to give.
 */
export async function holdingSlot(
  caps: ConnectionCaps,
  hubPath: string,
  admission: Admitted,
  start: (slot: ConnectionSlot) => Promise<HubConnection | void>,
): Promise<Refusal | undefined> {
  const slot = caps.take(hubPath, admission.userKey, admission.address);
  if (!slot.admitted) return slot;
  let connection: HubConnection | void = undefined;
  try {
    connection = await start(slot);
  } finally {
    if (!connection) slot.release();
  }
  return undefined;
}

/**
 * Claims a new connection's id in the registry: admission awaited authentication, so the id
 * may have been claimed meanwhile, here or on another node, or its connection may have ended.
 * Gives when the registry may forget the id: when its token can no longer open it.
 */
export async function claimNewId(
  registry: ConnectionRegistry,
  claimed: ClaimedConnection,
  unusedLifetimeMs: number,
): Promise<{ readonly forgetAt: number } | ExplainedRefusal> {
  const forgetAt = claimed.issuedAt + unusedLifetimeMs;
  const outcome = await registry.claim(claimed.connectionId, forgetAt - Date.now());
  if (outcome === 'live') return { ...refusal(409, CONNECTION_IN_USE), reason: 'connection id in use' };
  if (outcome === 'ended') return { ...refusal(404, UNKNOWN_CONNECTION), reason: 'connection ended' };
  return { forgetAt };
}
