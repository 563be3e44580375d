import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shimUploadTar } from './shim-archive';

/** Where a run's container holds the shim and its output record: an anonymous volume of its own. */
export const SHIM_VOLUME = '/.exec-stream';
export const SHIM_BINARY = `${SHIM_VOLUME}/exec-stream-shim`;
export const SHIM_RECORD_DIR = `${SHIM_VOLUME}/out`;
/** An exec's record: one folder per exec session, made by its shim. */
export const SHIM_EXECS_DIR = `${SHIM_VOLUME}/execs`;

export function execRecordDir(sessionId: string): string {
  return `${SHIM_EXECS_DIR}/${sessionId}`;
}
/** Label on containers whose output the shim records (value: the record format's version). */
export const LABEL_RECORDER = 'exec-stream.recorder';
export const RECORDER_VERSION = 'shim-1';
/** The record's newest bytes are kept in this many full segment files, beside the one being written. */
const SEGMENTS = 8;

const BINARY_NAME = 'exec-stream-shim';

/**
 * The built shim: scripts/build-shim.sh compiles exec-stream-shim.c (static) next to this file's
 * compiled JavaScript in dist/; code running from src/ (ts-jest) finds it in dist/ by the same
 * relative path.
 */
function binaryPath(): string {
  const beside = join(__dirname, BINARY_NAME);
  if (existsSync(beside)) return beside;
  const inDist = join(__dirname, '..', '..', '..', '..', 'dist', 'src', 'executor', 'docker', 'shim', BINARY_NAME);
  if (existsSync(inDist)) return inDist;
  throw new Error(`the exec-stream-shim binary was not built (looked in ${beside} and ${inDist}): run scripts/build.sh`);
}

let upload: Buffer | undefined;

/** The tar put into every new run container's SHIM_VOLUME before it starts (made once). */
export function shimUpload(): Buffer {
  upload ??= shimUploadTar(BINARY_NAME, readFileSync(binaryPath()), ['out', 'execs']);
  return upload;
}

/**
 * The shim's command line in front of the process's own, recording into `dir` (a run's: SHIM_RECORD_DIR;
 * an exec's: execRecordDir): the record keeps at least the newest `recordBytes`.
 */
export function shimEntrypoint(tty: boolean, recordBytes: number, dir = SHIM_RECORD_DIR): string[] {
  const segmentBytes = Math.max(65536, Math.ceil(recordBytes / SEGMENTS));
  return [SHIM_BINARY, 'run', dir, String(segmentBytes), String(SEGMENTS + 1), tty ? '1' : '0', '--'];
}

/** The reader's command line (a `docker exec` in the running container): the record in `dir` from its oldest byte, followed to its end. */
export function shimCat(dir: string): string[] {
  return [SHIM_BINARY, 'cat', dir];
}
