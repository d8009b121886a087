import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CLIENT_EXTENSION_FILES, clientExtensionScript, type ClientExtensionFile } from './client-extension-scripts.js';

const asset = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
// The browser build of the official client, from node_modules: no CDN.
const resolve = createRequire(import.meta.url).resolve;
const signalrBrowserBuild = resolve('@microsoft/signalr/dist/browser/signalr.min.js');
// The classic page's client, unmodified: jQuery and the jQuery SignalR client 2.4.3 (npm `signalr`).
const jqueryBuild = resolve('jquery/dist/jquery.min.js');
const classicSignalrBuild = resolve('signalr/jquery.signalR.min.js');

/**
 * The chat page on the classic jQuery client: the same page, its connection module and client
 * scripts swapped, so the two can never drift apart.
 */
const classicPage = readFileSync(asset('index.html'), 'utf8')
  .replace('<html lang="en">', '<html lang="en" data-client="classic">')
  .replace('<title>nestjs-signalr chat</title>', '<title>nestjs-signalr chat (classic jQuery client)</title>')
  .replace(
    '<script src="/vendor/signalr.min.js" defer></script>',
    '<script src="/vendor/jquery.min.js" defer></script>\n  <script src="/vendor/jquery.signalR.min.js" defer></script>',
  );

/** Serves the chat page and its few static files by fixed names; `security-headers.ts` adds the policy. */
@Controller()
export class WebController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): StreamableFile {
    return new StreamableFile(createReadStream(asset('index.html')));
  }

  @Get('classic.html')
  @Header('Content-Type', 'text/html; charset=utf-8')
  classicPage(): string {
    return classicPage;
  }

  /** The page's connection on the official client. */
  @Get('modern-connection.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  modernConnection(): StreamableFile {
    return new StreamableFile(createReadStream(asset('modern-connection.js')));
  }

  /** The page's connection on the classic jQuery client. */
  @Get('classic-connection.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  classicConnection(): StreamableFile {
    return new StreamableFile(createReadStream(asset('classic-connection.js')));
  }

  @Get('chat.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): StreamableFile {
    return new StreamableFile(createReadStream(asset('chat.js')));
  }

  @Get('chat.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  styles(): StreamableFile {
    return new StreamableFile(createReadStream(asset('chat.css')));
  }

  @Get('vendor/signalr.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  signalr(): StreamableFile {
    return new StreamableFile(createReadStream(signalrBrowserBuild));
  }

  /** The package's client extension (`nestjs-signalr/client`): the page refreshes its short-lived tokens with it. */
  @Get('vendor/nestjs-signalr/:file')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  clientExtension(@Param('file') file: string): string {
    if (!CLIENT_EXTENSION_FILES.includes(file as ClientExtensionFile)) throw new NotFoundException();
    return clientExtensionScript(file as ClientExtensionFile);
  }

  @Get('vendor/jquery.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  jquery(): StreamableFile {
    return new StreamableFile(createReadStream(jqueryBuild));
  }

  @Get('vendor/jquery.signalR.min.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  classicSignalr(): StreamableFile {
    return new StreamableFile(createReadStream(classicSignalrBuild));
  }
}
