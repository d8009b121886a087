/** The client method that receives groups tokens; the client extension listens for it. */
export const GROUPS_TOKEN_METHOD = 'nestjs-signalr:groups-token';

/**
 * The groups of one resumable connection, as this node knows them, with a version that grows
 * on every change. It asks for a new groups token once per burst of changes (several joins in
 * one turn give one token) and again when the last one is half way to expiring.
 */
export class MembershipRecord {
  private readonly groups = new Set<string>();
  private issueScheduled = false;
  private lastIssuedAt = -Infinity;

  constructor(
    private version: number,
    private readonly issue: (groups: readonly string[], version: number) => void,
    private readonly refreshAfterMs: number,
  ) {}

  changed(groupName: string, member: boolean): void {
    if (member) this.groups.add(groupName);
    else this.groups.delete(groupName);
    this.version++;
    this.scheduleIssue();
  }

  scheduleIssue(): void {
    if (this.issueScheduled) return;
    this.issueScheduled = true;
    setImmediate(() => {
      this.issueScheduled = false;
      this.issueNow(Date.now());
    });
  }

  /** Called by the keep-alive ticker. */
  tick(now: number): void {
    if (now - this.lastIssuedAt >= this.refreshAfterMs) this.issueNow(now);
  }

  private issueNow(now: number): void {
    this.lastIssuedAt = now;
    this.issue([...this.groups], this.version);
  }
}
