// Original file: proto/exec.proto


export interface RemoveSessionResponse {
  'session_id'?: (string);
  /**
   * The session was running and its process was killed (force).
   */
  'killed'?: (boolean);
}

export interface RemoveSessionResponse__Output {
  'session_id'?: (string);
  /**
   * The session was running and its process was killed (force).
   */
  'killed'?: (boolean);
}
