import { Controller, Get } from '@nestjs/common';

@Controller('health')
export class HealthController {
  /** Hubs are attached to the server before it listens, so answering at all means they accept. */
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
