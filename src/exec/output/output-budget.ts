import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExecConfig } from '../../common/config/exec-config';

/** What the data directory gives sessions: each one's output limit, and the free space kept for running ones. */
export interface OutputBudget {
  /** The most output one session records (EXEC_SESSION_OUTPUT_BYTES, or derived). */
  sessionBytes: number;
  /** Free space below which finished sessions' files are removed (EXEC_DATA_RESERVE_BYTES, or derived). */
  reserveBytes: number;
  /** The size of the data directory's file system (statfs), 0 when it could not be read. */
  fileSystemBytes: number;
}

/** Where nothing else says: at least this much output per session. */
const MIN_SESSION_BYTES = 1024 * 1024;

/**
 * The budget from the settings and the data directory's file system size: a setting of 0 is derived,
 * the session limit as a quarter of the smaller of EXEC_RETENTION_BYTES and the file system (so that one
 * runaway cannot fill the disk, nor take all of retention), the reserve as that limit, at most a quarter
 * of the file system.
 */
export function outputBudget(config: ExecConfig, fileSystemBytes: number): OutputBudget {
  const fs = fileSystemBytes > 0 ? fileSystemBytes : Number.MAX_SAFE_INTEGER;
  const retention = config.EXEC_RETENTION_BYTES > 0 ? config.EXEC_RETENTION_BYTES : fs;
  const derived = Math.max(MIN_SESSION_BYTES, Math.floor(Math.min(fs, retention) / 4));
  const sessionBytes = config.EXEC_SESSION_OUTPUT_BYTES || derived;
  const reserveBytes = config.EXEC_DATA_RESERVE_BYTES || Math.min(sessionBytes, Math.floor(fs / 4));
  return { sessionBytes, reserveBytes, fileSystemBytes };
}

/** statfs of `path`, or of its nearest existing parent: the file system's size and the bytes free to this process. */
export function fileSystemSpace(path: string): { sizeBytes: number; freeBytes: number } | undefined {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return { sizeBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return undefined;
  }
}

/** The budget of the data directory `config` names, its file system read now. */
export function dataDirBudget(config: ExecConfig): OutputBudget {
  return outputBudget(config, fileSystemSpace(config.EXEC_DATA_DIR)?.sizeBytes ?? 0);
}
