import { Global, Module } from '@nestjs/common';
import { readSampleConfig, SAMPLE_CONFIG } from './config.js';

@Global()
@Module({
  providers: [{ provide: SAMPLE_CONFIG, useFactory: () => readSampleConfig() }],
  exports: [SAMPLE_CONFIG],
})
export class ConfigModule {}
