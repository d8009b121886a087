import { Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { HubContext, InjectHubContext, SignalRModule } from 'nestjs-signalr';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { startHubApp, type RunningHubApp } from '../support/hub-app.js';
import { signFor, TestAuthModule } from '../support/jwt-auth.js';
import { loopbackCertificate } from '../support/tls.js';
import { HubWithAuthorization, TestHub, TestHubWithoutWebSockets } from './test-hub.js';

/** The endpoints their functional test server (FunctionalTests/Startup.cs) maps beside the hubs. */
@Controller()
export class FunctionalTestEndpoints {
  private redirects = 0;

  constructor(
    @InjectHubContext(TestHub) private readonly hub: HubContext,
    private readonly jwt: JwtService,
  ) {}

  @Get('generateJwtToken')
  generateJwtToken(): string {
    return signFor(this.jwt, 'testuser', [], 60);
  }

  /** Asks a client for a result; answers with it, or with the text of what failed. */
  @Get('clientresult/:id')
  async clientResult(@Param('id') connectionId: string): Promise<string> {
    try {
      return String(await this.hub.clients.client(connectionId).invoke<number>('Result'));
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** A negotiate that redirects to the test hub, counting redirects; spelt `/testHub` as theirs (paths match case-insensitively). */
  @Post('redirect/negotiate')
  @HttpCode(200)
  redirect(@Query('baseUrl') baseUrl: string): { url: string } {
    return { url: `${baseUrl}/testHub?numRedirects=${++this.redirects}` };
  }
}

function clientBundle(build: 'browser' | 'webworker'): Promise<string> {
  return readFile(createRequire(import.meta.url).resolve(`@microsoft/signalr/dist/${build}/signalr.js`), 'utf8');
}

/** What their server serves as files (wwwroot): a page to open in a browser, the client's browser and web worker bundles. */
@Controller()
export class FunctionalTestFiles {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return '<!doctype html><title>SignalR functional tests</title>';
  }

  @Get('lib/signalr-webworker/signalr.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  webWorkerClient(): Promise<string> {
    return clientBundle('webworker');
  }

  @Get('lib/signalr/signalr.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  browserClient(): Promise<string> {
    return clientBundle('browser');
  }
}

/**
 * Their middleware: every negotiate answer sets two cookies and an expired one, for the specs to
 * check that the client sends the live ones on its later requests (the WebSocket upgrade
 * included) and drops the expired one. Over HTTPS they are `Secure` and `SameSite=None`, as theirs.
 */
function setCookiesOnNegotiate(secure: boolean): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  const attributes = secure ? '; Path=/; Secure; SameSite=None' : '; Path=/';
  const expired = `; Expires=${new Date(Date.now() - 3_600_000).toUTCString()}`;
  return (request, response, next) => {
    if (request.url?.split('?')[0].endsWith('/negotiate')) {
      response.setHeader('Set-Cookie', [
        `testCookie=testValue${attributes}`,
        `testCookie2=testValue2${attributes}`,
        `expiredCookie=doesntmatter${attributes}${expired}`,
      ]);
    }
    next();
  };
}

/**
 * Their server: the hubs, detailed errors on, JWT bearer authentication; over HTTP or HTTPS.
 * Hubs see cookies, which theirs read, and which this package redacts unless told otherwise.
 */
export async function startFunctionalServer(scheme: 'http' | 'https'): Promise<RunningHubApp> {
  return startHubApp(
    [TestHub, TestHubWithoutWebSockets, HubWithAuthorization],
    { authStrategies: ['jwt'], detailedErrors: true, exposeRequestCredentials: ['cookies'] },
    {
      imports: [TestAuthModule, SignalRModule.forFeature([TestHub])],
      controllers: [FunctionalTestEndpoints, FunctionalTestFiles],
      httpsOptions: scheme === 'https' ? await loopbackCertificate() : undefined,
      configure: (app) => app.use(setCookiesOnNegotiate(scheme === 'https')),
    },
  );
}
