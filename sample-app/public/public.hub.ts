import { Hub } from 'nestjs-signalr';

/** Open to everyone, anonymous callers included. */
@Hub('/hubs/public')
export class PublicHub {
  ping(): string {
    return 'pong';
  }
}
