import type { LoggerService } from '@nestjs/common';

/** Keeps every line the application logs, at every level. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private keep = (...parts: unknown[]) => this.lines.push(parts.map((part) => String(part)).join(' '));
  log = this.keep;
  error = this.keep;
  warn = this.keep;
  debug = this.keep;
  verbose = this.keep;
  fatal = this.keep;

  text(): string {
    return this.lines.join('\n');
  }
}
