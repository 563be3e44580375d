// Original file: proto/exec.proto


/**
 * exec-stream: RemoveSession's request: the session (its id as Ready.session_id gave it).
 */
export interface RemoveSessionRequest {
  'session_id'?: (string);
  /**
   * Also a running session: its process is killed (SIGKILL) and the session forgotten once it has ended.
   */
  'force'?: (boolean);
}

/**
 * exec-stream: RemoveSession's request: the session (its id as Ready.session_id gave it).
 */
export interface RemoveSessionRequest__Output {
  'session_id'?: (string);
  /**
   * Also a running session: its process is killed (SIGKILL) and the session forgotten once it has ended.
   */
  'force'?: (boolean);
}
