import { Authorize, Hub } from 'nestjs-signalr';

/** Open to everyone, anonymous callers included; one method needs a signed-in user. Classic name: `publicHub`. */
@Hub('/hubs/public', { classicName: 'publicHub' })
export class PublicHub {
  ping(): string {
    return 'pong';
  }

  @Authorize()
  secret(): string {
    return 'secret';
  }
}
