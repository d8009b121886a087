import {
  Authorize,
  Caller,
  Clients,
  Groups,
  Hub,
  HubException,
  HubMethod,
  HubUser,
  UploadStream,
  type GroupManager,
  type HubCallerClients,
  type HubCallerContext,
  type OnHubDisconnected,
} from 'nestjs-signalr';
import type { ChatUser } from '../auth/jwt.strategy.js';
import { EchoPayload } from './echo-payload.js';
import { RoomMembership } from './room-membership.js';

const ROOM_NAME = /^[a-z0-9-]{1,32}$/;
const ADMINS_ROOM = 'admins';
// A chat line, not a document: counted in characters (code points), so an emoji counts as one.
const MAX_MESSAGE_CHARACTERS = 2_000;
const MAX_COUNT = 10_000;
const MAX_DELAY_MS = 60_000;
const isIntegerIn = (value: unknown, min: number, max: number) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every method needs a signed-in user: the hub refuses anonymous negotiate and connect (401).
 * Classic jQuery clients reach it as `chatHub` on /signalr.
 */
@Hub('/hubs/chat', { classicName: 'chatHub' })
@Authorize()
export class ChatHub implements OnHubDisconnected {
  constructor(private readonly membership: RoomMembership) {}

  onDisconnected(caller: HubCallerContext): void {
    this.membership.forget(caller.connectionId);
  }

  whoami(@HubUser() user: ChatUser): { name: string; roles: readonly string[] } {
    return { name: user.sub, roles: user.roles };
  }

  async joinRoom(
    room: string,
    @Caller() caller: HubCallerContext,
    @HubUser() user: ChatUser,
    @Groups() groups: GroupManager,
  ): Promise<void> {
    if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
      throw new HubException('Room names are 1 to 32 characters of a-z, 0-9 and -.');
    }
    if (room === ADMINS_ROOM && !user.roles.includes('admin')) {
      throw new HubException(`You are not allowed to join '${room}'.`);
    }
    await groups.addToGroup(caller.connectionId, room);
    this.membership.join(caller.connectionId, room);
  }

  async leaveRoom(room: string, @Caller() caller: HubCallerContext, @Groups() groups: GroupManager): Promise<void> {
    this.membership.leave(caller.connectionId, room);
    await groups.removeFromGroup(caller.connectionId, room);
  }

  async sendToRoom(room: string, text: string, @Caller() caller: HubCallerContext, @Clients() clients: HubCallerClients): Promise<void> {
    if (!this.membership.isMember(caller.connectionId, room)) {
      throw new HubException(`You are not a member of '${room}'.`);
    }
    const message = String(text);
    // The refusal names the limit and quotes none of the text.
    if ([...message].length > MAX_MESSAGE_CHARACTERS) {
      throw new HubException(`The message is too long: at most ${MAX_MESSAGE_CHARACTERS} characters.`);
    }
    await clients.group(room).send('ReceiveMessage', room, displayName(caller), message);
  }

  @Authorize({ roles: ['admin'] })
  async announce(text: string, @Caller() caller: HubCallerContext, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.all.send('Announcement', displayName(caller), String(text));
  }

  // A decorator makes TypeScript record the parameter types that validation needs.
  @HubMethod()
  echo(payload: EchoPayload): string {
    return payload.text;
  }

  fail(): never {
    throw new Error('The database password is hunter2');
  }

  @HubMethod()
  async *counter(count: number, delayMs: number): AsyncGenerator<number> {
    if (!isIntegerIn(count, 0, MAX_COUNT) || !isIntegerIn(delayMs, 0, MAX_DELAY_MS)) {
      throw new HubException(`Counter takes a count of 0 to ${MAX_COUNT} and a delay of 0 to ${MAX_DELAY_MS} ms.`);
    }
    for (let i = 0; i < count; i++) {
      yield i;
      await sleep(delayMs);
    }
  }

  async sum(@UploadStream() numbers: AsyncIterable<number>): Promise<number> {
    let total = 0;
    for await (const n of numbers) total += Number(n);
    return total;
  }
}

function displayName(caller: HubCallerContext): string {
  // The hub admits only signed-in users, so every caller has an identifier.
  return caller.userIdentifier!;
}
