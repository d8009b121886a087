import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { OriginPolicy, type OriginDecision } from '../../src/security/origin-policy.js';

const APP = 'https://app.example.com';
const HUB_HOST = 'chat.example.com';

function requestWith(headers: IncomingHttpHeaders): IncomingMessage {
  return Object.assign(new IncomingMessage(new Socket()), { headers });
}

/** A browser request from `origin` to this server at `host`. */
function checkOrigin(policy: OriginPolicy, origin: string, host = HUB_HOST, secure = false): OriginDecision {
  return policy.check(requestWith({ origin, host }), secure);
}

function startupError(create: () => unknown): Error {
  try {
    create();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('the policy was created');
}

describe('OriginPolicy start-up checks', () => {
  it("refuses '*' with credentials, by default or explicitly, and says why", () => {
    for (const allowCredentials of [undefined, true]) {
      const error = startupError(() => new OriginPolicy({ allowedOrigins: ['*'], allowCredentials }));
      expect(error.message).toMatch(/credentials with a wildcard would let any site act as the signed-in user/i);
      expect(error.message).toContain('List the allowed origins instead, or set allowCredentials to false.');
    }
  });

  it("accepts '*' without credentials", () => {
    expect(() => new OriginPolicy({ allowedOrigins: ['*'], allowCredentials: false })).not.toThrow();
  });

  it.each([
    ['no scheme', 'app.example.com'],
    ['another scheme', 'ftp://app.example.com'],
    ['a path', 'https://app.example.com/chat'],
    ['two trailing slashes', 'https://app.example.com//'],
    ['a query', 'https://app.example.com?x=1'],
    ['a fragment', 'https://app.example.com#top'],
    ['user info', 'https://user@app.example.com'],
    ['an out-of-range port', 'https://app.example.com:99999'],
    ['an empty port', 'https://app.example.com:'],
    ['a wildcard subdomain', 'https://*.example.com'],
    ['the null origin', 'null'],
    ['an empty string', ''],
    ['surrounding spaces', ' https://app.example.com '],
    ['a non-punycode name', 'https://exämple.com'],
  ])('refuses an allowed origin with %s', (_case, entry) => {
    const error = startupError(() => new OriginPolicy({ allowedOrigins: [entry] }));
    expect(error.message).toContain(JSON.stringify(entry));
    expect(error.message).toMatch(/scheme:\/\/host\[:port\]/);
    expect(error.message).toContain('without path, query, fragment or user info; international domain names in punycode.');
  });

  it('refuses an entry that is not a string, as untyped configuration can hold, with the same message', () => {
    const error = startupError(() => new OriginPolicy({ allowedOrigins: [443 as unknown as string] }));
    expect(error.message).toContain('allowedOrigins entry 443 is not an origin');
  });

  it('accepts one trailing slash and normalizes scheme, host case and default ports', () => {
    const policy = new OriginPolicy({
      allowedOrigins: ['https://app.example.com/', 'HTTPS://Admin.Example.COM:443', 'http://legacy.example.com:80'],
    });
    expect(checkOrigin(policy, APP)).toEqual({ allowed: true, crossOrigin: APP });
    expect(checkOrigin(policy, 'https://admin.example.com')).toEqual({
      allowed: true,
      crossOrigin: 'https://admin.example.com',
    });
    expect(checkOrigin(policy, 'http://legacy.example.com')).toEqual({
      allowed: true,
      crossOrigin: 'http://legacy.example.com',
    });
  });
});

describe('OriginPolicy.check', () => {
  const policy = new OriginPolicy({ allowedOrigins: [APP, 'http://[::1]:4200'] });

  it('allows requests without Origin: non-browser clients never send one', () => {
    expect(policy.check(requestWith({ host: HUB_HOST }), false)).toEqual({ allowed: true });
    expect(policy.check(requestWith({}), true)).toEqual({ allowed: true });
  });

  it('refuses the null origin, even when every origin is allowed', () => {
    const everyOrigin = new OriginPolicy({ allowedOrigins: ['*'], allowCredentials: false });
    for (const subject of [policy, everyOrigin]) {
      expect(checkOrigin(subject, 'null')).toEqual({ allowed: false, reason: expect.stringMatching(/null/) });
    }
  });

  describe('same origin', () => {
    it('allows the page served by this server, without CORS', () => {
      expect(checkOrigin(policy, `http://${HUB_HOST}`)).toEqual({ allowed: true });
      expect(checkOrigin(policy, `https://${HUB_HOST}`, HUB_HOST, true)).toEqual({ allowed: true });
      expect(checkOrigin(policy, `http://${HUB_HOST}:8080`, `${HUB_HOST}:8080`)).toEqual({ allowed: true });
    });

    it('ignores the case of the Host header and of the Origin host', () => {
      expect(checkOrigin(policy, `http://${HUB_HOST}`, 'CHAT.Example.com')).toEqual({ allowed: true });
      expect(checkOrigin(policy, 'HTTP://Chat.EXAMPLE.com')).toEqual({ allowed: true });
    });

    it('treats default ports as absent on either side', () => {
      expect(checkOrigin(policy, `https://${HUB_HOST}`, `${HUB_HOST}:443`, true)).toEqual({ allowed: true });
      expect(checkOrigin(policy, `http://${HUB_HOST}:80`)).toEqual({ allowed: true });
      expect(checkOrigin(policy, `http://${HUB_HOST}`, `${HUB_HOST}:80`)).toEqual({ allowed: true });
    });

    it('is not an Origin differing only by scheme', () => {
      expect(checkOrigin(policy, `https://${HUB_HOST}`, HUB_HOST, false).allowed).toBe(false);
      expect(checkOrigin(policy, `http://${HUB_HOST}`, HUB_HOST, true).allowed).toBe(false);
      // Port 443 over plain http is not https.
      expect(checkOrigin(policy, `https://${HUB_HOST}`, `${HUB_HOST}:443`, false).allowed).toBe(false);
    });

    it('is not an Origin differing only by port', () => {
      expect(checkOrigin(policy, `http://${HUB_HOST}:8080`).allowed).toBe(false);
      expect(checkOrigin(policy, `http://${HUB_HOST}`, `${HUB_HOST}:8080`).allowed).toBe(false);
      expect(checkOrigin(policy, `http://${HUB_HOST}:8081`, `${HUB_HOST}:8080`).allowed).toBe(false);
    });

    it('is not a subdomain, a parent domain or a look-alike', () => {
      for (const origin of [
        `http://evil.${HUB_HOST}`,
        'http://example.com',
        `http://${HUB_HOST}.evil.example`,
        `http://${HUB_HOST.replace('.', '-')}`,
      ]) {
        expect(checkOrigin(policy, origin)).toEqual({ allowed: false, reason: `Origin ${origin} is not allowed.` });
      }
    });

    it('works with IPv6 hosts', () => {
      expect(checkOrigin(policy, 'http://[::1]:3000', '[::1]:3000')).toEqual({ allowed: true });
      expect(checkOrigin(policy, 'http://[0:0::1]:3000', '[::1]:3000')).toEqual({ allowed: true });
      expect(checkOrigin(policy, 'http://[::1]', '[::1]:80')).toEqual({ allowed: true });
      expect(checkOrigin(policy, 'http://[::2]:3000', '[::1]:3000').allowed).toBe(false);
      expect(checkOrigin(policy, 'http://[::1]:3001', '[::1]:3000').allowed).toBe(false);
    });

    it('is never inferred from a missing or malformed Host header', () => {
      expect(policy.check(requestWith({ origin: `http://${HUB_HOST}` }), false).allowed).toBe(false);
      // Without Host there is no own origin to match, not even the one an undefined host would spell.
      expect(policy.check(requestWith({ origin: 'http://undefined' }), false).allowed).toBe(false);
      expect(checkOrigin(policy, `http://${HUB_HOST}`, `${HUB_HOST}/path`).allowed).toBe(false);
      expect(checkOrigin(policy, `http://${HUB_HOST}`, `user@${HUB_HOST}`).allowed).toBe(false);
    });
  });

  describe('listed cross origins', () => {
    it('are allowed, with the normalized origin to answer CORS for', () => {
      expect(checkOrigin(policy, APP)).toEqual({ allowed: true, crossOrigin: APP });
      expect(checkOrigin(policy, 'https://APP.example.com:443')).toEqual({ allowed: true, crossOrigin: APP });
      expect(checkOrigin(policy, 'http://[::1]:4200')).toEqual({ allowed: true, crossOrigin: 'http://[::1]:4200' });
    });

    it('must match scheme, port and host exactly', () => {
      for (const origin of [
        'http://app.example.com',
        'https://app.example.com:8443',
        'https://evil.app.example.com',
        'https://example.com',
        'https://app.example.com.evil.example',
        'http://[::1]:4201',
      ]) {
        expect(checkOrigin(policy, origin)).toEqual({ allowed: false, reason: `Origin ${origin} is not allowed.` });
      }
    });
  });

  it("allows every well-formed origin when '*' is listed without credentials", () => {
    const everyOrigin = new OriginPolicy({ allowedOrigins: ['*'], allowCredentials: false });
    expect(checkOrigin(everyOrigin, 'https://anyone.example')).toEqual({
      allowed: true,
      crossOrigin: 'https://anyone.example',
    });
    expect(checkOrigin(everyOrigin, `http://${HUB_HOST}`)).toEqual({ allowed: true });
    expect(checkOrigin(everyOrigin, 'https://anyone.example/').allowed).toBe(false);
  });

  it('allows only same-origin pages when no origins are listed', () => {
    const sameOriginOnly = new OriginPolicy();
    expect(checkOrigin(sameOriginOnly, `http://${HUB_HOST}`)).toEqual({ allowed: true });
    expect(checkOrigin(sameOriginOnly, APP).allowed).toBe(false);
  });

  it.each([
    ['a trailing slash', `${APP}/`],
    ['a path', `${APP}/chat`],
    ['a query', `${APP}?x=1`],
    ['user info', 'https://user:pass@app.example.com'],
    ['no scheme', 'app.example.com'],
    ['a script URL', 'javascript:alert(1)'],
    ['a file URL', 'file:///etc/passwd'],
    ['an empty value', ''],
    ['surrounding whitespace', ` ${APP}`],
    ['a control character', `${APP}\r\nSet-Cookie: x=1`],
    ['an out-of-range port', `${APP}:65536`],
    ['an invalid IPv6 address', 'http://[::1::2]'],
    ['an uppercase NULL', 'NULL'],
    ['two comma-separated values', `${APP}, https://evil.example`],
    ['two equal values', `${APP},${APP}`],
    ['two space-separated values', `${APP} ${APP}`],
    ['over 2048 characters', `http://${'a'.repeat(2042)}`],
  ])('refuses an Origin with %s without quoting it', (_case, origin) => {
    const decision = checkOrigin(policy, origin);
    expect(decision).toEqual({ allowed: false, reason: 'Origin header is not a single well-formed origin.' });
  });
});

it('allows an origin of 2048 characters, the longest it reads', () => {
  const host = 'a'.repeat(2041);
  expect(checkOrigin(new OriginPolicy(), `http://${host}`, host)).toEqual({ allowed: true });
});

describe('OriginPolicy CORS headers', () => {
  const policy = new OriginPolicy({ allowedOrigins: [APP] });

  it('name the exact allowed origin, allow credentials and vary by Origin', () => {
    expect(policy.corsHeaders(APP)).toEqual({
      'Access-Control-Allow-Origin': APP,
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    });
  });

  it('omit credentials when they are not allowed, and never answer with *', () => {
    const everyOrigin = new OriginPolicy({ allowedOrigins: ['*'], allowCredentials: false });
    expect(everyOrigin.corsHeaders('https://anyone.example')).toEqual({
      'Access-Control-Allow-Origin': 'https://anyone.example',
      Vary: 'Origin',
    });
  });

  it('never reflect an origin the policy refused', () => {
    const refusedOrigin = 'https://evil.example';
    const decision = checkOrigin(policy, refusedOrigin);
    expect(decision).not.toHaveProperty('crossOrigin');
    for (const origin of [refusedOrigin, `http://${HUB_HOST}`, 'null', '*', `${APP}/path`, '']) {
      expect(() => policy.corsHeaders(origin)).toThrow(/does not allow/);
      expect(() => policy.preflightHeaders(origin, requestWith({ origin }))).toThrow(/does not allow/);
    }
  });

  it("answer a preflight with the hub's methods, the requested SignalR headers and a cache lifetime", () => {
    const preflight = requestWith({
      origin: APP,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'x-requested-with,X-SIGNALR-USER-AGENT, authorization , content-type',
    });
    expect(policy.preflightHeaders(APP, preflight)).toEqual({
      'Access-Control-Allow-Origin': APP,
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': 'X-Requested-With, X-SignalR-User-Agent, Authorization, Content-Type',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin, Access-Control-Request-Headers',
    });
  });

  it('allow no request header to a preflight that asks for none', () => {
    expect(policy.preflightHeaders(APP, requestWith({ origin: APP, 'access-control-request-method': 'GET' }))).not.toHaveProperty(
      'Access-Control-Allow-Headers',
    );
  });

  it('allow no request header outside the SignalR list', () => {
    const withForeignHeader = requestWith({ origin: APP, 'access-control-request-headers': 'x-evil, authorization' });
    expect(policy.preflightHeaders(APP, withForeignHeader)['Access-Control-Allow-Headers']).toBe('Authorization');
    const withoutHeaders = policy.preflightHeaders(APP, requestWith({ origin: APP }));
    expect(withoutHeaders).not.toHaveProperty('Access-Control-Allow-Headers');
  });

  it('allow every header the @microsoft/signalr browser client sets on negotiate', async () => {
    const sentHeaders = await negotiateHeadersOfBrowserClient();
    expect(sentHeaders).toEqual(expect.arrayContaining(['X-Requested-With', 'X-SignalR-User-Agent', 'Authorization']));
    const preflight = requestWith({ origin: APP, 'access-control-request-headers': sentHeaders.join(',') });
    const allowed = policy.preflightHeaders(APP, preflight)['Access-Control-Allow-Headers']?.split(', ') ?? [];
    expect(allowed.toSorted()).toEqual(sentHeaders.toSorted());
  });
});

/**
 * Runs the real client's negotiate as it runs in a browser, where it sends what the page's
 * fetch() call puts on the request: exactly the headers the browser names in a preflight.
 */
async function negotiateHeadersOfBrowserClient(): Promise<string[]> {
  const sentHeaders: string[] = [];
  const fetchSpy = vi.fn(async (_url: string, init: RequestInit) => {
    sentHeaders.push(...Object.keys(init.headers ?? {}));
    return new Response('', { status: 503 });
  });
  const release = Object.getOwnPropertyDescriptor(process, 'release');
  if (release === undefined) throw new Error('process.release is missing');
  vi.stubGlobal('fetch', fetchSpy);
  // The client picks browser behaviour (X-SignalR-User-Agent, the page's fetch) by this name.
  Object.defineProperty(process, 'release', { ...release, value: { ...process.release, name: 'browser' } });
  try {
    const connection = new HubConnectionBuilder()
      .withUrl(`https://${HUB_HOST}/chat`, {
        accessTokenFactory: () => 'a-token',
        transport: HttpTransportType.WebSockets,
      })
      .configureLogging(LogLevel.None)
      .build();
    await expect(connection.start()).rejects.toThrow(/503/);
  } finally {
    Object.defineProperty(process, 'release', release);
    vi.unstubAllGlobals();
  }
  expect(fetchSpy).toHaveBeenCalledOnce();
  return sentHeaders;
}
