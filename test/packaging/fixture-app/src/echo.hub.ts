import { Clients, Hub, HubException, type HubCallerClients } from 'nestjs-signalr';

@Hub('/hubs/echo')
export class EchoHub {
  echo(text: unknown): string {
    // Reaches the caller as is only if the app and the package share one HubException class.
    if (typeof text !== 'string') throw new HubException('Text expected.');
    return text;
  }

  async shout(text: string, @Clients() clients: HubCallerClients): Promise<void> {
    await clients.caller.send('Shouted', text.toUpperCase());
  }
}
