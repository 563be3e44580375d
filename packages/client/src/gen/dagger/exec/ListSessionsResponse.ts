// Original file: proto/exec.proto

import type { SessionInfo as _dagger_exec_SessionInfo, SessionInfo__Output as _dagger_exec_SessionInfo__Output } from '../../dagger/exec/SessionInfo';

export interface ListSessionsResponse {
  'sessions'?: (_dagger_exec_SessionInfo)[];
  /**
   * Empty on the last page.
   */
  'next_page_token'?: (string);
}

export interface ListSessionsResponse__Output {
  'sessions'?: (_dagger_exec_SessionInfo__Output)[];
  /**
   * Empty on the last page.
   */
  'next_page_token'?: (string);
}
