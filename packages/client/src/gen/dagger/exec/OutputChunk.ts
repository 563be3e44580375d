// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface OutputChunk {
  'sequence'?: (number | string | Long);
  /**
   * Unix ns
   */
  'timestamp'?: (number | string | Long);
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  'is_replay'?: (boolean);
  'gap_before'?: (number | string | Long);
  'data'?: "stdout"|"stderr";
}

export interface OutputChunk__Output {
  'sequence'?: (string);
  /**
   * Unix ns
   */
  'timestamp'?: (string);
  'stdout'?: (Buffer);
  'stderr'?: (Buffer);
  'is_replay'?: (boolean);
  'gap_before'?: (string);
  'data'?: "stdout"|"stderr";
}
