import { status, type ServiceError } from '@grpc/grpc-js';

/** The CLI or the service failed (bad flags, unreachable service, refused call, lost outcome): docker's 125. */
export const EXIT_FAILED = 125;
/** The command could not be invoked (not executable, permission denied): docker's 126. */
export const EXIT_CANNOT_INVOKE = 126;
/** The command was not found in the container: docker's 127. */
export const EXIT_NOT_FOUND = 127;

/** A failure of the CLI itself, reported as one line and the given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILED,
  ) {
    super(message);
  }
}

const CODE_NAMES = Object.fromEntries(
  Object.entries(status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v, k]),
) as Record<number, string>;

/** `NOT_FOUND (5): no such session` for a gRPC error, the message otherwise; always one line. */
export function describeError(err: unknown): string {
  const e = err as Partial<ServiceError> & { message?: string };
  const text = e.code !== undefined && CODE_NAMES[e.code] ? `${CODE_NAMES[e.code]} (${e.code}): ${e.details || e.message}` : String(e.message ?? err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * The exit code for a failure: 127 / 126 when starting the command failed because it does not exist or
 * cannot be executed (as `docker run` says), 125 for everything else.
 */
export function exitCodeFor(err: unknown, starting = false): number {
  if (err instanceof CliError) return err.exitCode;
  const text = describeError(err);
  if (starting && /executable file not found|no such file or directory|command not found/i.test(text)) return EXIT_NOT_FOUND;
  if (starting && /permission denied|not executable|exec format error/i.test(text)) return EXIT_CANNOT_INVOKE;
  return EXIT_FAILED;
}
