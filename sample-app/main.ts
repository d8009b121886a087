import 'reflect-metadata';
import { createSampleApp } from './bootstrap.js';
import { startOpenTelemetry } from './observability/open-telemetry.js';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);

await startOpenTelemetry();
const app = await createSampleApp();
await app.listen(port, host);
console.log(`nestjs-signalr sample listening on http://${host}:${port}`);
