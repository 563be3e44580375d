// Original file: proto/exec.proto

import type { CopyToHeader as _dagger_exec_CopyToHeader, CopyToHeader__Output as _dagger_exec_CopyToHeader__Output } from '../../dagger/exec/CopyToHeader';

/**
 * exec-stream: CopyTo's first message is the header; then tar bytes in any number of chunks.
 */
export interface CopyToRequest {
  'header'?: (_dagger_exec_CopyToHeader | null);
  'tar'?: (Buffer | Uint8Array | string);
  'msg'?: "header"|"tar";
}

/**
 * exec-stream: CopyTo's first message is the header; then tar bytes in any number of chunks.
 */
export interface CopyToRequest__Output {
  'header'?: (_dagger_exec_CopyToHeader__Output);
  'tar'?: (Buffer);
  'msg'?: "header"|"tar";
}
