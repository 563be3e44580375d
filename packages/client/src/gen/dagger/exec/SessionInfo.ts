// Original file: proto/exec.proto

import type { Outcome as _dagger_exec_Outcome, Outcome__Output as _dagger_exec_Outcome__Output } from '../../dagger/exec/Outcome';
import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: one session as ListSessions sees it.
 */
export interface SessionInfo {
  'session_id'?: (string);
  'container_id'?: (string);
  'exec_id'?: (string);
  'image'?: (string);
  'command'?: (string)[];
  'tty'?: (boolean);
  /**
   * "running" or "finished".
   */
  'state'?: (string);
  'clients_attached'?: (number);
  /**
   * Unix ns
   */
  'created_at'?: (number | string | Long);
  /**
   * Unix ns
   */
  'started_at'?: (number | string | Long);
  /**
   * Unix ns, 0 while running
   */
  'finished_at'?: (number | string | Long);
  /**
   * set when finished
   */
  'outcome'?: (_dagger_exec_Outcome | null);
  'output_bytes'?: (number | string | Long);
  'last_sequence'?: (number | string | Long);
  /**
   * "run" or "exec".
   */
  'mode'?: (string);
  'labels'?: ({[key: string]: string});
  'request_id'?: (string);
  /**
   * exec-stream: the replica (EXEC_REPLICA_ID) that owns the session.
   */
  'replica'?: (string);
}

/**
 * exec-stream: one session as ListSessions sees it.
 */
export interface SessionInfo__Output {
  'session_id'?: (string);
  'container_id'?: (string);
  'exec_id'?: (string);
  'image'?: (string);
  'command'?: (string)[];
  'tty'?: (boolean);
  /**
   * "running" or "finished".
   */
  'state'?: (string);
  'clients_attached'?: (number);
  /**
   * Unix ns
   */
  'created_at'?: (string);
  /**
   * Unix ns
   */
  'started_at'?: (string);
  /**
   * Unix ns, 0 while running
   */
  'finished_at'?: (string);
  /**
   * set when finished
   */
  'outcome'?: (_dagger_exec_Outcome__Output);
  'output_bytes'?: (string);
  'last_sequence'?: (string);
  /**
   * "run" or "exec".
   */
  'mode'?: (string);
  'labels'?: ({[key: string]: string});
  'request_id'?: (string);
  /**
   * exec-stream: the replica (EXEC_REPLICA_ID) that owns the session.
   */
  'replica'?: (string);
}
