// Original file: proto/exec.proto

import type { SessionInfo as _dagger_exec_SessionInfo, SessionInfo__Output as _dagger_exec_SessionInfo__Output } from '../../dagger/exec/SessionInfo';

export interface ListSessionsResponse {
  'sessions'?: (_dagger_exec_SessionInfo)[];
  /**
   * Empty on the last page.
   */
  'next_page_token'?: (string);
  /**
   * exec-stream: replicas that could not be asked (down or unreachable): their sessions are missing
   * from this page. Empty when every replica answered (docs/SCALING.md).
   */
  'unreachable_replicas'?: (string)[];
}

export interface ListSessionsResponse__Output {
  'sessions'?: (_dagger_exec_SessionInfo__Output)[];
  /**
   * Empty on the last page.
   */
  'next_page_token'?: (string);
  /**
   * exec-stream: replicas that could not be asked (down or unreachable): their sessions are missing
   * from this page. Empty when every replica answered (docs/SCALING.md).
   */
  'unreachable_replicas'?: (string)[];
}
