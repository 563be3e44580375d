// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface ContainerLifecycleEvent {
  'container_id'?: (string);
  'event_type'?: (string);
  'status'?: (string);
  'timestamp'?: (number | string | Long);
  'exit_code'?: (number);
  'message'?: (string);
  /**
   * exec-stream: monotonically increasing event id (per service process); resume after it.
   */
  'id'?: (number | string | Long);
  /**
   * exec-stream: on an event_type "dropped" event: how many events this subscriber lost (fell behind
   * the bounded history); the message names the ids.
   */
  'dropped'?: (number | string | Long);
  /**
   * exec-stream: signal number of a "killed" event.
   */
  'signal'?: (number);
  /**
   * exec-stream: the session that owns the container (or the exec, with exec_id), when known.
   */
  'session_id'?: (string);
  /**
   * exec-stream: set when the event concerns one exec of the container (a signal sent to it).
   */
  'exec_id'?: (string);
  /**
   * exec-stream: who reported it: executor, docker, control or service.
   */
  'source'?: (string);
  /**
   * exec-stream: the replica (EXEC_REPLICA_ID) whose engine the container is on. A stream without a
   * container filter merges the events of every replica (docs/SCALING.md); ids are per replica. An
   * event_type "replica_unreachable" says that replica's events stop until it answers again.
   */
  'replica'?: (string);
}

export interface ContainerLifecycleEvent__Output {
  'container_id'?: (string);
  'event_type'?: (string);
  'status'?: (string);
  'timestamp'?: (string);
  'exit_code'?: (number);
  'message'?: (string);
  /**
   * exec-stream: monotonically increasing event id (per service process); resume after it.
   */
  'id'?: (string);
  /**
   * exec-stream: on an event_type "dropped" event: how many events this subscriber lost (fell behind
   * the bounded history); the message names the ids.
   */
  'dropped'?: (string);
  /**
   * exec-stream: signal number of a "killed" event.
   */
  'signal'?: (number);
  /**
   * exec-stream: the session that owns the container (or the exec, with exec_id), when known.
   */
  'session_id'?: (string);
  /**
   * exec-stream: set when the event concerns one exec of the container (a signal sent to it).
   */
  'exec_id'?: (string);
  /**
   * exec-stream: who reported it: executor, docker, control or service.
   */
  'source'?: (string);
  /**
   * exec-stream: the replica (EXEC_REPLICA_ID) whose engine the container is on. A stream without a
   * container filter merges the events of every replica (docs/SCALING.md); ids are per replica. An
   * event_type "replica_unreachable" says that replica's events stop until it answers again.
   */
  'replica'?: (string);
}
