// Original file: proto/exec.proto

import type { PathStat as _dagger_exec_PathStat, PathStat__Output as _dagger_exec_PathStat__Output } from '../../dagger/exec/PathStat';

/**
 * exec-stream: the first message carries the path's stat; then tar bytes in chunks.
 */
export interface CopyFromResponse {
  'tar'?: (Buffer | Uint8Array | string);
  'stat'?: (_dagger_exec_PathStat | null);
}

/**
 * exec-stream: the first message carries the path's stat; then tar bytes in chunks.
 */
export interface CopyFromResponse__Output {
  'tar'?: (Buffer);
  'stat'?: (_dagger_exec_PathStat__Output);
}
