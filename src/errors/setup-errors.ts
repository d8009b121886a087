import { SignalRError, SignalRErrorCode } from './signalr-error-codes.js';

/** The line `main.ts` lacks when hubs are not served by the package's adapter. */
export const ADAPTER_LINE = 'app.useWebSocketAdapter(new SignalRAdapter(app));';

/** `what` found no `SignalRModule.forRoot()`; the error says where it goes. */
export function rootModuleMissing(what: string): SignalRError {
  return new SignalRError(
    SignalRErrorCode.RootModuleMissing,
    `${what} needs SignalRModule.forRoot(), imported once in the root module: ` +
      `@Module({ imports: [SignalRModule.forRoot({ keys: [process.env.SIGNALR_KEY] })] }) (import { SignalRModule } from 'nestjs-signalr').`,
  );
}

/** Hubs are provided, but served by no `SignalRAdapter`: `adapter` names the one in use, if any. */
export function adapterMissing(hubs: string, adapter?: string): SignalRError {
  const found = adapter === undefined ? 'the application sets no WebSocket adapter' : `the application's WebSocket adapter is ${adapter}, which does not serve hubs`;
  return new SignalRError(
    SignalRErrorCode.AdapterMissing,
    `${hubs} can only be served by SignalRAdapter, and ${found}: in main.ts, between NestFactory.create(...) and app.listen(...), ` +
      `add ${ADAPTER_LINE} (import { SignalRAdapter } from 'nestjs-signalr'). It serves plain @WebSocketGateway gateways too, as @nestjs/platform-ws's WsAdapter.`,
  );
}
