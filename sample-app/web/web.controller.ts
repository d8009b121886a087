import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const asset = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
// The browser build of the official client, from node_modules: no CDN.
const signalrBrowserBuild = createRequire(import.meta.url).resolve('@microsoft/signalr/dist/browser/signalr.min.js');

/** Serves the chat page and its few static files by fixed names; `security-headers.ts` adds the policy. */
@Controller()
export class WebController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): StreamableFile {
    return new StreamableFile(createReadStream(asset('index.html')));
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
}
