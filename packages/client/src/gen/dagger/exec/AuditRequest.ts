// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

/**
 * exec-stream: what an audited call asked for (fields the action does not have stay unset).
 */
export interface AuditRequest {
  'image'?: (string);
  'command'?: (string)[];
  'user'?: (string);
  /**
   * The names of Start.env, never the values.
   */
  'env_names'?: (string)[];
  'labels'?: ({[key: string]: string});
  'working_dir'?: (string);
  'tty'?: (boolean);
  'open_stdin'?: (boolean);
  /**
   * Start's limits as asked (0 = the service's default).
   */
  'memory_bytes'?: (number | string | Long);
  'cpus'?: (number | string);
  'pids_limit'?: (number | string | Long);
  'timeout_ms'?: (number | string | Long);
  'idle_timeout_ms'?: (number | string | Long);
  'kill_grace_ms'?: (number | string | Long);
  'read_only_rootfs'?: (boolean);
  'pull'?: (string);
  /**
   * Start.request_id.
   */
  'start_request_id'?: (string);
  'replay_from_sequence'?: (number | string | Long);
  /**
   * signal, timeout_kill: the signal's name.
   */
  'signal'?: (string);
  /**
   * resize: the terminal size asked for.
   */
  'width'?: (number);
  'height'?: (number);
  /**
   * copy_to, copy_from: the path in the container.
   */
  'path'?: (string);
  /**
   * copy_to: tar bytes received.
   */
  'bytes'?: (number | string | Long);
  /**
   * list_sessions: its state and mode filters; audit_events: its caller filter, actions and follow.
   */
  'state'?: (string);
  'mode'?: (string);
  'caller'?: (string);
  'actions'?: (string)[];
  'follow'?: (boolean);
  /**
   * timeout_kill: timeout or idle_timeout.
   */
  'timeout'?: (string);
  '_read_only_rootfs'?: "read_only_rootfs";
}

/**
 * exec-stream: what an audited call asked for (fields the action does not have stay unset).
 */
export interface AuditRequest__Output {
  'image'?: (string);
  'command'?: (string)[];
  'user'?: (string);
  /**
   * The names of Start.env, never the values.
   */
  'env_names'?: (string)[];
  'labels'?: ({[key: string]: string});
  'working_dir'?: (string);
  'tty'?: (boolean);
  'open_stdin'?: (boolean);
  /**
   * Start's limits as asked (0 = the service's default).
   */
  'memory_bytes'?: (string);
  'cpus'?: (number);
  'pids_limit'?: (string);
  'timeout_ms'?: (string);
  'idle_timeout_ms'?: (string);
  'kill_grace_ms'?: (string);
  'read_only_rootfs'?: (boolean);
  'pull'?: (string);
  /**
   * Start.request_id.
   */
  'start_request_id'?: (string);
  'replay_from_sequence'?: (string);
  /**
   * signal, timeout_kill: the signal's name.
   */
  'signal'?: (string);
  /**
   * resize: the terminal size asked for.
   */
  'width'?: (number);
  'height'?: (number);
  /**
   * copy_to, copy_from: the path in the container.
   */
  'path'?: (string);
  /**
   * copy_to: tar bytes received.
   */
  'bytes'?: (string);
  /**
   * list_sessions: its state and mode filters; audit_events: its caller filter, actions and follow.
   */
  'state'?: (string);
  'mode'?: (string);
  'caller'?: (string);
  'actions'?: (string)[];
  'follow'?: (boolean);
  /**
   * timeout_kill: timeout or idle_timeout.
   */
  'timeout'?: (string);
  '_read_only_rootfs'?: "read_only_rootfs";
}
