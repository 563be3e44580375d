import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { LogDestination } from './log-destination';

export type { Logger } from 'pino';

let stdout: LogDestination | undefined;

/**
 * The process's one stdout destination (log lines, and the audit trail's copy of its events), flushed when
 * the process exits (what is queued then is written, boundedly).
 */
export function stdoutDestination(): LogDestination {
  if (!stdout) {
    const destination = (stdout = new LogDestination());
    process.on('exit', () => destination.flushSync());
  }
  return stdout;
}

/**
 * One pino root per process; components take children with their own bindings (session id, …). Lines go
 * to stdout through LogDestination: never waiting on their reader, and a line that cannot be written is
 * dropped, never thrown into the code that logged nor retried for ever.
 */
export function createRootLogger(level: string, destination: LogDestination = stdoutDestination()): Logger {
  return pino({ level, base: { service: 'exec-stream' } }, destination);
}

/** Lets Nest's own messages go through the same structured logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}
