import { HubConnectionState } from '@microsoft/signalr';
import { AuthenticationRefresh } from 'nestjs-signalr/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampleApp } from '../../sample-app/bootstrap.js';
import { ClientPool, TRANSPORT_NAMES } from '../support/client.js';
import { listenOnLoopback, type RunningHubApp } from '../support/hub-app.js';
import { sleep } from '../support/wait.js';

// The sample contract's "Authentication refresh": both hubs accept it on every transport, with
// 3-second tokens from POST /auth/login; POST /auth/renew gives the page its next token. A JWT's
// expiry is in whole seconds, so a 3-second token has 2 to 3 s left, and negotiate announces at
// least a second of it however slow the machine (a 2-second one may announce none, and a client
// then does not refresh, by the official clients' rule).

const TOKEN_TTL_SECONDS = 3;
const HOLD_MS = 7_000;

describe('sample app: authentication refresh (contract: sample-app-contract.md)', () => {
  let server: RunningHubApp;
  const pools = TRANSPORT_NAMES.map((transport) => new ClientPool('json', false, transport));

  const post = (path: string, body: object, headers: Record<string, string> = {}) =>
    fetch(`${server.baseUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const login = async (username: string) =>
    ((await (await post('/auth/login', { username, password: `${username}-pass`, ttlSeconds: TOKEN_TTL_SECONDS })).json()) as { access_token: string }).access_token;
  const accessTokenFactory = () => login('alice');

  beforeAll(async () => {
    server = await listenOnLoopback(await createSampleApp({ logger: false }));
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.stopAll()));
    await server.close();
  });

  it.concurrent.each(TRANSPORT_NAMES.flatMap((transport, index) => ['/hubs/chat', '/hubs/public'].map((hub) => [hub, transport, index] as const)))(
    `keeps a %s connection over %s on ${TOKEN_TTL_SECONDS}-second tokens open past several of them`,
    async (hub, transport, index) => {
      const url = `${server.baseUrl}${hub}`;
      const refresh = new AuthenticationRefresh(url, { accessTokenFactory });
      const connection = await pools[index].connect(url, { accessTokenFactory }, (built) => refresh.attach(built));
      await sleep(HOLD_MS);
      expect(connection.state).toBe(HubConnectionState.Connected);
      // Still alice's, with a valid credential: the chat hub names her, the public hub lets her past `Secret`'s @Authorize.
      if (hub === '/hubs/chat') expect(((await connection.invoke('Whoami')) as { name: string }).name).toBe('alice');
      else expect(await connection.invoke('Secret')).toBe('secret');
    },
    HOLD_MS + 20_000,
  );

  it('renews a valid token for its user (POST /auth/renew), and nothing else', async () => {
    const token = await login('bob');
    const renewed = await post('/auth/renew', { ttlSeconds: 60 }, { Authorization: `Bearer ${token}` });
    expect(renewed.status).toBe(200);
    const { access_token } = (await renewed.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString()) as { sub: string; roles: string[]; exp: number; iat: number };
    expect([claims.sub, claims.roles, claims.exp - claims.iat]).toEqual(['bob', ['user'], 60]);
    expect((await post('/auth/renew', {})).status).toBe(401);
    expect((await post('/auth/renew', {}, { Authorization: 'Bearer not-a-jwt' })).status).toBe(401);
  });
});
