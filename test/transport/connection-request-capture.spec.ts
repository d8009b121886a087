import { createServer, type OutgoingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SignalRErrorCode } from '../../src/errors/signalr-error-codes.js';
import type { ConnectionRequest } from '../../src/hub/connection-request.js';
import { ConnectionRequestCapture, type ConnectionRequestOptions, type RequestCredential } from '../../src/transport/connection-request-capture.js';
import { judgeRealRequest } from '../support/real-request.js';

const REDACTED = '[redacted]';
const ADMISSION = { user: { sub: 'alice' }, address: '203.0.113.7' };

/** What a capture with `options` takes of a real request to `path` carrying `headers`. */
function captured(options: ConnectionRequestOptions, path: string, headers: OutgoingHttpHeaders = {}): Promise<ConnectionRequest> {
  const capture = new ConnectionRequestCapture(options);
  return judgeRealRequest(createServer(), 'http', { path, headers }, (request) => {
    const query = new URLSearchParams(request.url!.slice(request.url!.indexOf('?') + 1));
    return capture.capture(request, query, 'WebSockets', ADMISSION);
  });
}

const CREDENTIALS = { Authorization: 'Bearer header-secret', 'Proxy-Authorization': 'Basic proxy-secret', Cookie: 'session=cookie-secret' };

describe('ConnectionRequestCapture', () => {
  it.each<[RequestCredential[], Record<string, string>]>([
    [[], { authorization: REDACTED, 'proxy-authorization': REDACTED, cookie: REDACTED, session: REDACTED, access_token: REDACTED }],
    [['authorization'], { authorization: 'Bearer header-secret', 'proxy-authorization': 'Basic proxy-secret', cookie: REDACTED, session: REDACTED, access_token: REDACTED }],
    [['cookies'], { authorization: REDACTED, 'proxy-authorization': REDACTED, cookie: 'session=cookie-secret', session: 'cookie-secret', access_token: REDACTED }],
    [['accessToken'], { authorization: REDACTED, 'proxy-authorization': REDACTED, cookie: REDACTED, session: REDACTED, access_token: 'query-secret' }],
  ])('exposing %j shows only those credentials', async (exposed, expected) => {
    const request = await captured({ exposeRequestCredentials: exposed }, '/hubs/a?access_token=query-secret&id=connection-token&resume=groups-token', CREDENTIALS);
    expect({
      authorization: request.headers.authorization,
      'proxy-authorization': request.headers['proxy-authorization'],
      cookie: request.headers.cookie,
      session: request.cookies.session,
      access_token: request.query.access_token,
    }).toEqual(expected);
    // The library's own tokens are never the application's to see.
    expect(request.query).toMatchObject({ id: REDACTED, resume: REDACTED });
  });

  it('redacts token parameters whatever the case of their names', async () => {
    const request = await captured({}, '/hubs/a?ACCESS_TOKEN=a&Id=b&RESUME=c&room=d');
    expect(request.query).toEqual({ ACCESS_TOKEN: REDACTED, Id: REDACTED, RESUME: REDACTED, room: 'd' });
  });

  it('reads cookies: quotes dropped and values URL-decoded as in ASP.NET Core, a stray % kept, the first of a repeated name kept', async () => {
    const cookie = 'theme="dark"; greeting=hello%20world; odds=100%; theme=light; flag; =nameless; spaced = yes ';
    const request = await captured({ exposeRequestCredentials: ['cookies'] }, '/hubs/a', { Cookie: cookie });
    expect(request.cookies).toEqual({ theme: 'dark', greeting: 'hello world', odds: '100%', spaced: 'yes' });
  });

  it('keeps names the client chose, such as __proto__, as plain entries that touch no prototype', async () => {
    const request = await captured({ exposeRequestCredentials: ['cookies'] }, '/hubs/a?__proto__=x&constructor=y', { Cookie: '__proto__=z' });
    // Nothing is inherited: a name the client did not send reads as absent, whatever it is.
    for (const record of [request.query, request.cookies, request.headers]) {
      const prototype = Object.getPrototypeOf(record) as object;
      expect(Reflect.ownKeys(prototype)).toEqual([]);
      expect(Object.getPrototypeOf(prototype)).toBeNull();
    }
    expect('toString' in request.headers).toBe(false);
    expect(request.headers['constructor']).toBeUndefined();
    expect(Object.hasOwn(request.query, '__proto__')).toBe(true);
    expect(request.query['__proto__']).toBe('x');
    expect(request.query['constructor']).toBe('y');
    expect(request.cookies['__proto__']).toBe('z');
  });

  it('carries the transport, the address and the user the gatekeeper admitted, all frozen', async () => {
    const request = await captured({}, '/hubs/a?room=a&room=b');
    expect(request).toMatchObject({ transport: 'WebSockets', remoteAddress: '203.0.113.7', user: { sub: 'alice' }, query: { room: ['a', 'b'] } });
    for (const part of [request, request.headers, request.cookies, request.query, request.query.room]) expect(Object.isFrozen(part)).toBe(true);
  });

  it.each([[['password']], [['cookies', 'session']], ['cookies']])('refuses to start with exposeRequestCredentials %j', (listed) => {
    expect(() => new ConnectionRequestCapture({ exposeRequestCredentials: listed as RequestCredential[] })).toThrow(
      expect.objectContaining({ code: SignalRErrorCode.InvalidOption, message: expect.stringContaining("'exposeRequestCredentials'") }),
    );
  });
});
