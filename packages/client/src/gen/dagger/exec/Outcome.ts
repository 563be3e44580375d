// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: why and when a session's process ended.
 */
export interface Outcome {
  'exit_code'?: (number);
  /**
   * The signal number that ended it, 0 when it exited by itself.
   */
  'signal'?: (number);
  /**
   * exited, signaled, timeout, idle_timeout, oom_killed, killed_by_request, output_limit or lost (docs/PROTOCOL.md).
   */
  'reason'?: (string);
  /**
   * Unix ns
   */
  'started_at'?: (number | string | Long);
  /**
   * Unix ns
   */
  'finished_at'?: (number | string | Long);
  'stdout_bytes'?: (number | string | Long);
  'stderr_bytes'?: (number | string | Long);
  /**
   * A sentence a person can read, e.g. "killed after the 5 s timeout".
   */
  'message'?: (string);
  /**
   * exec-stream: the last signal the service sent on a timeout (reason timeout or idle_timeout): 15
   * (SIGTERM), or 9 once the grace ran out (SIGKILL); 0 when it sent none. With `signal` 0 the process
   * exited by itself after it (e.g. code 0 from a SIGTERM handler) before any SIGKILL.
   */
  'timeout_signal'?: (number);
}

/**
 * exec-stream: why and when a session's process ended.
 */
export interface Outcome__Output {
  'exit_code'?: (number);
  /**
   * The signal number that ended it, 0 when it exited by itself.
   */
  'signal'?: (number);
  /**
   * exited, signaled, timeout, idle_timeout, oom_killed, killed_by_request, output_limit or lost (docs/PROTOCOL.md).
   */
  'reason'?: (string);
  /**
   * Unix ns
   */
  'started_at'?: (string);
  /**
   * Unix ns
   */
  'finished_at'?: (string);
  'stdout_bytes'?: (string);
  'stderr_bytes'?: (string);
  /**
   * A sentence a person can read, e.g. "killed after the 5 s timeout".
   */
  'message'?: (string);
  /**
   * exec-stream: the last signal the service sent on a timeout (reason timeout or idle_timeout): 15
   * (SIGTERM), or 9 once the grace ran out (SIGKILL); 0 when it sent none. With `signal` 0 the process
   * exited by itself after it (e.g. code 0 from a SIGTERM handler) before any SIGKILL.
   */
  'timeout_signal'?: (number);
}
