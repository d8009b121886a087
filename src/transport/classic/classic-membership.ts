import { Logger } from '@nestjs/common';

const logger = new Logger('SignalR:Classic');

/** Seals a connection's groups at a version into a groups token; throws when they do not fit. */
export type GroupsTokenIssuer = (groups: Readonly<Record<string, readonly string[]>>, membershipVersion: number) => string;

/**
 * The groups of one classic connection, by hub, as its hub connections report changes to them,
 * and the groups token owed to the client since the last change (`G` of the next response).
 */
export class ClassicMembership {
  private readonly groups = new Map<string, Set<string>>();
  private owedToken: string | undefined;
  private warnedDoesNotFit = false;

  constructor(
    private readonly issue: GroupsTokenIssuer,
    /** Where versions go on from: a resumed connection's tokens stay newer than those it had. */
    private version = 0,
  ) {}

  changed(hubKey: string, groupName: string, member: boolean): void {
    let groups = this.groups.get(hubKey);
    if (!groups) this.groups.set(hubKey, (groups = new Set()));
    if (member) groups.add(groupName);
    else groups.delete(groupName);
    this.version++;
    const snapshot = Object.fromEntries([...this.groups].map(([hub, names]) => [hub, [...names]]));
    try {
      this.owedToken = this.issue(snapshot, this.version);
    } catch {
      if (!this.warnedDoesNotFit) logger.warn("A classic connection's groups do not fit in a groups token; its client keeps the previous one (said once per connection).");
      this.warnedDoesNotFit = true;
    }
  }

  /** The token the client has not been sent yet, if any; taken once. */
  takeToken(): string | undefined {
    const token = this.owedToken;
    this.owedToken = undefined;
    return token;
  }

  get hasToken(): boolean {
    return this.owedToken !== undefined;
  }
}
