import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { readSampleConfig } from '../../sample-app/config.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { rawHttp, UPGRADE_HEADERS } from '../support/raw-client.js';

/** The sample as started with PUBLIC_HOST set to `publicHost` (or unset). */
async function startSample(publicHost: string | undefined): Promise<RunningHubApp> {
  const before = process.env.PUBLIC_HOST;
  if (publicHost === undefined) delete process.env.PUBLIC_HOST;
  else process.env.PUBLIC_HOST = publicHost;
  try {
    return await listenOnLoopback(await createSampleApp({ logger: false }));
  } finally {
    if (before === undefined) delete process.env.PUBLIC_HOST;
    else process.env.PUBLIC_HOST = before;
  }
}

/** Negotiate and upgrade statuses of both hubs for a request carrying this Host (and its own Origin). */
async function statuses(server: RunningHubApp, host: string): Promise<number[]> {
  const headers = [
    ['Host', host],
    ['Origin', `http://${host}`],
  ] as const;
  const answers = ['/hubs/public', '/hubs/chat'].flatMap((hub) => [
    rawHttp(server.baseUrl, 'POST', `${hub}/negotiate?negotiateVersion=1`, [...headers, ['Content-Length', '0']]),
    rawHttp(server.baseUrl, 'GET', hub, [...headers, ...UPGRADE_HEADERS]),
  ]);
  return (await Promise.all(answers)).map(({ status }) => status);
}

// /hubs/public admits anyone (200, 101); /hubs/chat wants a user (401): a Host refusal comes first.
const ADMITTED = [200, 101, 401, 401];
const REFUSED = [400, 400, 400, 400];

describe('sample app Host allowlist (contract: "Hosts and abuse limits")', () => {
  let server: RunningHubApp | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers localhost and 127.0.0.1 on any port, and refuses every other Host before any hub code (DNS rebinding)', async () => {
    server = await startSample(undefined);
    const port = new URL(server.baseUrl).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'localhost', '127.0.0.1:1']) expect(await statuses(server, host), host).toEqual(ADMITTED);
    for (const host of [`rebind.attacker.test:${port}`, `[::1]:${port}`, `127.0.0.2:${port}`]) expect(await statuses(server, host), host).toEqual(REFUSED);
  });

  it('answers PUBLIC_HOST exactly as given, name:port or name alone', async () => {
    server = await startSample('chat.example.test:8443');
    expect(await statuses(server, 'chat.example.test:8443')).toEqual(ADMITTED);
    expect(await statuses(server, 'chat.example.test')).toEqual(REFUSED);
    await server.close();
    server = await startSample('chat.example.test');
    expect(await statuses(server, 'chat.example.test')).toEqual(ADMITTED);
    expect(await statuses(server, 'chat.example.test:3000')).toEqual(REFUSED);
    expect(await statuses(server, 'other.example.test')).toEqual(REFUSED);
  });

  it("refuses a PUBLIC_HOST of '*', which would let any Host through", () => {
    const secrets = { SIGNALR_KEYS: randomBytes(32).toString('base64'), JWT_SECRET: 'sample-hosts-test-secret' };
    expect(readSampleConfig({ ...secrets, PUBLIC_HOST: 'chat.example.test' }).allowedHosts).toEqual(['localhost:*', '127.0.0.1:*', 'chat.example.test']);
    expect(() => readSampleConfig({ ...secrets, PUBLIC_HOST: '*' })).toThrow(/PUBLIC_HOST/);
  });
});
