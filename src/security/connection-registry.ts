/** The outcome of claiming a connection id for a new socket. */
export type ClaimOutcome = 'claimed' | 'live' | 'ended';

/**
 * The outcome of taking a connection over: `ended` anywhere, `busy` when a node that is up still
 * holds it and did not let it go in time, else the membership version last recorded, if any.
 */
export type TakeOverOutcome = 'ended' | 'busy' | { readonly membershipVersion: number | undefined };

/**
 * Which connection ids are live and which have ended, for as long as a token could still be used
 * on them. A sealed token stays authentic after its connection ends, so this record is what makes
 * it single-use: a live id answers 409, an ended one 404. Shared between nodes (Redis), it also
 * refuses an ended connection on every node, and keeps the membership version a resuming
 * connection's groups token is checked against after the node that held it is gone.
 */
export interface ConnectionRegistry {
  /** Marks a new connection live for `holdMs`, unless its id is live or ended already. */
  claim(connectionId: string, holdMs: number): Promise<ClaimOutcome>;
  /**
   * Takes a connection over on this node when the node that held it lost it. Refused (`ended`)
   * for an ended connection; otherwise the membership version last recorded, if any survives.
   */
  takeOver(connectionId: string, holdMs: number): Promise<TakeOverOutcome>;
  /** Records the connection's current membership version and keeps it live for `holdMs`. */
  recordMembership(connectionId: string, membershipVersion: number, holdMs: number): Promise<void>;
  /** Marks the connection ended for `keepMs`, unless another node has taken it over since. */
  end(connectionId: string, keepMs: number): Promise<void>;
  /**
   * Called with the id of a connection this node holds that another node is taking over (its client
   * resumed there): the handler ends it here without recording an end, and resolves once it has.
   * Registries that span nodes call it; others never need to.
   */
  onYield?(handler: (connectionId: string) => void): void;
  /** Resolves once the registry can answer, or gave up waiting: called before the application serves. */
  ready?(): Promise<void>;
  dispose(): Promise<void>;
}

/** Creates the registry of one hub. */
export type ConnectionRegistryFactory = (hubPath: string) => ConnectionRegistry;
