import { Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { HubContext, InjectHubContext, SignalRModule } from 'nestjs-signalr';
import { readFile } from 'node:fs/promises';
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

  /**
   * A negotiate that redirects to the test hub, counting redirects. Theirs redirects to
   * `/testHub`, relying on case-insensitive hub paths; this one uses the hub's own spelling.
   */
  @Post('redirect/negotiate')
  @HttpCode(200)
  redirect(@Query('baseUrl') baseUrl: string): { url: string } {
    return { url: `${baseUrl}/testhub?numRedirects=${++this.redirects}` };
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

/** Their server: the hubs, detailed errors on, JWT bearer authentication; over HTTP or HTTPS. */
export async function startFunctionalServer(scheme: 'http' | 'https'): Promise<RunningHubApp> {
  return startHubApp(
    [TestHub, TestHubWithoutWebSockets, HubWithAuthorization],
    { authStrategies: ['jwt'], detailedErrors: true },
    {
      imports: [TestAuthModule, SignalRModule.forFeature([TestHub])],
      controllers: [FunctionalTestEndpoints, FunctionalTestFiles],
      httpsOptions: scheme === 'https' ? await loopbackCertificate() : undefined,
    },
  );
}
