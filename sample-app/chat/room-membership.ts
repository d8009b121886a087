import { Injectable } from '@nestjs/common';

/**
 * Which rooms each connection has joined. Groups are for routing, not security: the hub checks
 * membership here before it lets anyone speak in a room.
 */
@Injectable()
export class RoomMembership {
  private readonly roomsByConnection = new Map<string, Set<string>>();

  join(connectionId: string, room: string): void {
    let rooms = this.roomsByConnection.get(connectionId);
    if (!rooms) this.roomsByConnection.set(connectionId, (rooms = new Set()));
    rooms.add(room);
  }

  leave(connectionId: string, room: string): void {
    this.roomsByConnection.get(connectionId)?.delete(room);
  }

  isMember(connectionId: string, room: string): boolean {
    return this.roomsByConnection.get(connectionId)?.has(room) ?? false;
  }

  forget(connectionId: string): void {
    this.roomsByConnection.delete(connectionId);
  }
}
