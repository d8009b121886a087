import { Module } from '@nestjs/common';
import { ChatHub } from './chat.hub.js';
import { RoomMembership } from './room-membership.js';

@Module({
  providers: [ChatHub, RoomMembership],
})
export class ChatModule {}
