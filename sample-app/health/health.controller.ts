import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { SignalRBackplaneHealthIndicator, type BackplaneHealthDetails } from 'nestjs-signalr';
import { SAMPLE_CONFIG, type SampleConfig } from '../config.js';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
    private readonly backplane: SignalRBackplaneHealthIndicator,
    private readonly health: HealthCheckService,
  ) {}

  /**
   * Hubs are attached to the server before it listens, so answering at all means they accept.
   * Stays 200 while Redis is down: this node still serves its own connections.
   */
  @Get()
  check(): { status: 'ok'; backplane?: BackplaneHealthDetails } {
    if (!this.config.redisUrl && !this.config.redisClusterNodes) return { status: 'ok' };
    return { status: 'ok', ...this.backplane.isHealthy('backplane') };
  }

  /** For a readiness probe or an alert: 503 while this node cannot reach the other nodes. */
  @Get('backplane')
  @HealthCheck()
  checkBackplane(): Promise<HealthCheckResult> {
    return this.health.check([() => this.backplane.isHealthy()]);
  }
}
