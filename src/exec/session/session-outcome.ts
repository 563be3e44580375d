import type { ExecError } from '../../common/errors';

/** How a session's process ended: its exit code, or the error its clients are given instead. */
export type SessionOutcome = { exitCode: number } | { error: ExecError };
