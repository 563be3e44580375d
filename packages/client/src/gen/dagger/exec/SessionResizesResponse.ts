// Original file: proto/exec.proto

import type { TerminalResize as _dagger_exec_TerminalResize, TerminalResize__Output as _dagger_exec_TerminalResize__Output } from '../../dagger/exec/TerminalResize';
import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: a TTY session's terminal sizes in order; the first is its size when it started. Sessions
 * recorded before this existed (or without a TTY) have none.
 */
export interface SessionResizesResponse {
  'resizes'?: (_dagger_exec_TerminalResize)[];
  'tty'?: (boolean);
  /**
   * Unix ns: when its process started
   */
  'started_at'?: (number | string | Long);
}

/**
 * exec-stream: a TTY session's terminal sizes in order; the first is its size when it started. Sessions
 * recorded before this existed (or without a TTY) have none.
 */
export interface SessionResizesResponse__Output {
  'resizes'?: (_dagger_exec_TerminalResize__Output)[];
  'tty'?: (boolean);
  /**
   * Unix ns: when its process started
   */
  'started_at'?: (string);
}
