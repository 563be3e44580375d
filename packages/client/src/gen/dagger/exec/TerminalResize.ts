// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface TerminalResize {
  /**
   * Unix ns
   */
  'timestamp'?: (number | string | Long);
  'width'?: (number);
  'height'?: (number);
  /**
   * The last output chunk recorded before it (0: before any).
   */
  'after_sequence'?: (number | string | Long);
}

export interface TerminalResize__Output {
  /**
   * Unix ns
   */
  'timestamp'?: (string);
  'width'?: (number);
  'height'?: (number);
  /**
   * The last output chunk recorded before it (0: before any).
   */
  'after_sequence'?: (string);
}
