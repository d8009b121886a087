import { Injectable } from '@nestjs/common';
import { Authorize, Caller, ClassicState, Clients, Groups, Hub, HubException, type GroupManager, type HubCallerClients, type HubCallerContext, type OnHubConnected, type OnHubDisconnected } from 'nestjs-signalr';
import { HubCodeRuns, NotBannedPolicy, OpenHub } from '../../security/security-hubs.js';

/** What the hubs saw, for assertions. */
@Injectable()
export class ClassicHubEvents {
  readonly connected: string[] = [];
  readonly disconnected: string[] = [];
}

/** A room chat as the sample's, named `chatHub` for classic clients. */
@Hub('/hubs/chat', { classicName: 'chatHub' })
@Authorize()
export class ClassicChatHub implements OnHubConnected, OnHubDisconnected {
  constructor(private readonly events: ClassicHubEvents) {}

  onConnected(caller: HubCallerContext): void {
    this.events.connected.push(caller.connectionId);
  }

  onDisconnected(caller: HubCallerContext): void {
    this.events.disconnected.push(caller.connectionId);
  }

  whoami(@Caller() caller: HubCallerContext): string | null {
    return caller.userIdentifier ?? null;
  }

  echo(value: unknown): unknown {
    return value;
  }

  async joinRoom(room: string, @Groups() groups: GroupManager, @Caller() caller: HubCallerContext): Promise<void> {
    await groups.addToGroup(caller.connectionId, room);
  }

  async leaveRoom(room: string, @Groups() groups: GroupManager, @Caller() caller: HubCallerContext): Promise<void> {
    await groups.removeFromGroup(caller.connectionId, room);
  }

  async sendToRoom(room: string, text: string, @Clients() clients: HubCallerClients, @Caller() caller: HubCallerContext): Promise<void> {
    await clients.group(room).send('ReceiveMessage', room, caller.userIdentifier, text);
  }

  refuse(): never {
    throw new HubException('not a member of that room', { room: 'lobby', rooms: ['a', 'b'] });
  }

  /** Reads the caller's hub state, counts its calls in it, and drops what it was told to forget. */
  greet(@ClassicState() state: Record<string, unknown> | undefined): string {
    if (!state) return 'no state';
    state.calls = ((state.calls as number | undefined) ?? 0) + 1;
    delete state.forget;
    return `hello ${String(state.name)}`;
  }

  /** Sets hub state of `length` characters. */
  grow(length: number, @ClassicState() state: Record<string, unknown>): void {
    state.blob = 'x'.repeat(length);
  }

  /** Leaves in the hub state, and throws as data, what JSON cannot carry. */
  unwritable(what: 'state' | 'data', @ClassicState() state: Record<string, unknown>): void {
    if (what === 'state') state.count = 1n;
    else throw new HubException('no data for you', 1n);
  }

  /** Asks the caller for a result, and says how that went. */
  async askCaller(@Clients() clients: HubCallerClients): Promise<string> {
    try {
      return `answered ${String(await clients.caller.invoke('confirm'))}`;
    } catch (error) {
      return `failed: ${(error as Error).message}`;
    }
  }

  fail(): never {
    throw new Error('the password is hunter2');
  }

  @Authorize({ roles: ['admin'] })
  announce(text: string, @Clients() clients: HubCallerClients): Promise<void> {
    return clients.all.send('Announcement', text);
  }
}

/** Only admins may connect. */
@Hub('/hubs/admins', { classicName: 'adminHub' })
@Authorize({ roles: ['admin'] })
export class ClassicAdminHub {
  ping(): string {
    return 'pong';
  }
}

/** Opts out of classic hub state. */
@Hub('/hubs/stateless', { classicState: false })
export class StatelessHub {
  sawState(@ClassicState() state: unknown): boolean {
    return state !== undefined;
  }
}

/** With `OpenHub` (anyone may connect; its classic name is its class name) and what it needs. */
export const CLASSIC_HUBS = [ClassicChatHub, OpenHub, HubCodeRuns, NotBannedPolicy, ClassicAdminHub, StatelessHub, ClassicHubEvents];
