import { DISK_FULL_ERRNO, errnoOf, ExecError, NO_FDS_ERRNO, outOfFdsMessage } from '../../common/errors';

const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'EIO']);

/**
 * A file-system failure of the session files under EXEC_DATA_DIR, in words a person can act on.
 * `diskProblem` is true when the data directory itself cannot be written (full, read-only, failing):
 * health reports NOT_SERVING while that lasts; false when the process ran out of file descriptors.
 */
export class DataDirError extends ExecError {
  constructor(
    kind: 'exhausted' | 'unavailable',
    message: string,
    readonly code: string,
    readonly diskProblem: boolean,
  ) {
    const reason = kind === 'unavailable' ? 'DATA_DIR_UNWRITABLE' : diskProblem ? 'DATA_DIR_FULL' : 'FILE_DESCRIPTORS_EXHAUSTED';
    super(kind, message, { reason, metadata: { errno: code, ...(diskProblem ? { setting: 'EXEC_DATA_DIR' } : {}) } });
  }
}

/** `err` as a DataDirError when it is one of the known file-system failures; otherwise unchanged. */
export function dataDirError(err: unknown, dataDir: string, what: string): unknown {
  const code = errnoOf(err);
  if (!code || err instanceof ExecError) return err;
  if (DISK_FULL_ERRNO.has(code)) {
    return new DataDirError(
      'exhausted',
      `the data directory ${dataDir} (EXEC_DATA_DIR) is full (${code}): ${what} could not be written; free space there`,
      code,
      true,
    );
  }
  if (NO_FDS_ERRNO.has(code)) return new DataDirError('exhausted', outOfFdsMessage(code, `: ${what} could not be opened`), code, false);
  if (NOT_WRITABLE.has(code)) {
    return new DataDirError('unavailable', `the data directory ${dataDir} (EXEC_DATA_DIR) cannot be written (${code}): ${what} failed`, code, true);
  }
  return err;
}
