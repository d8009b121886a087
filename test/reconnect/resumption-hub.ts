import { Injectable } from '@nestjs/common';
import {
  Caller,
  Clients,
  Groups,
  Hub,
  HubMethod,
  type GroupManager,
  type HubCallerClients,
  type HubCallerContext,
  type OnHubDisconnected,
} from 'nestjs-signalr';

/** What the hub saw, per application (node). */
@Injectable()
export class RoomEvents {
  readonly recorded: number[] = [];
  /** Connection ids whose end the hub has seen. */
  readonly disconnected = new Set<string>();
}

/** Rooms for the resumption tests: groups, a numbered stream both ways, and the caller's id. */
@Hub('/hubs/rooms')
export class RoomsHub implements OnHubDisconnected {
  constructor(private readonly events: RoomEvents) {}

  onDisconnected(caller: HubCallerContext): void {
    this.events.disconnected.add(caller.connectionId);
  }

  @HubMethod()
  async join(room: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.addToGroup(caller.connectionId, room);
  }

  @HubMethod()
  async leave(room: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    await groups.removeFromGroup(caller.connectionId, room);
  }

  @HubMethod()
  async sendToRoom(room: string, text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.group(room).send('RoomMessage', room, text);
  }

  @HubMethod()
  async record(value: number, @Clients() clients: HubCallerClients): Promise<void> {
    this.events.recorded.push(value);
    await clients.caller.send('Recorded', value);
  }

  @HubMethod()
  whoAmI(@Caller() caller: HubCallerContext): string {
    return caller.connectionId;
  }
}

/** A second hub, whose groups tokens must not open connections of the first. */
@Hub('/hubs/other-rooms')
export class OtherRoomsHub {}
