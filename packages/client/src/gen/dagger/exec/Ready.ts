// Original file: proto/exec.proto

import type { Resize as _dagger_exec_Resize, Resize__Output as _dagger_exec_Resize__Output } from '../../dagger/exec/Resize';

export interface Ready {
  'session_id'?: (string);
  'terminal_size'?: (_dagger_exec_Resize | null);
  'replay_complete'?: (boolean);
  /**
   * exec-stream: the container this session runs in (created by a run, or the exec's container).
   */
  'container_id'?: (string);
  /**
   * exec-stream: the Docker exec id when the session is an exec; empty for a run.
   */
  'exec_id'?: (string);
}

export interface Ready__Output {
  'session_id'?: (string);
  'terminal_size'?: (_dagger_exec_Resize__Output);
  'replay_complete'?: (boolean);
  /**
   * exec-stream: the container this session runs in (created by a run, or the exec's container).
   */
  'container_id'?: (string);
  /**
   * exec-stream: the Docker exec id when the session is an exec; empty for a run.
   */
  'exec_id'?: (string);
}
