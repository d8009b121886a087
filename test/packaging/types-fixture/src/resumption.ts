// The client extension's subpath, as a browser or Node client imports it: the types suite checks
// that every compiler and module resolution finds its declarations.
import { HubConnectionBuilder } from '@microsoft/signalr';
import { ConnectionResumption, type ResumableConnectionOptions } from 'nestjs-signalr/client';

const options: ResumableConnectionOptions = { accessTokenFactory: () => 'token' };
const resumption = new ConnectionResumption('http://127.0.0.1/hubs/echo', options);
export const connection = resumption.attach(new HubConnectionBuilder().withUrl('http://127.0.0.1/hubs/echo', options).build());
