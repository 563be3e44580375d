// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface ContainerLifecycleRequest {
  /**
   * empty = all managed containers
   */
  'container_id'?: (string);
  /**
   * exec-stream: first replay the held events after this id (one a previous call saw), then go on live.
   * Unset = only events from now on. Ids restart when the service restarts (docs/LIFECYCLE.md).
   */
  'resume_after_id'?: (number | string | Long);
  '_resume_after_id'?: "resume_after_id";
}

export interface ContainerLifecycleRequest__Output {
  /**
   * empty = all managed containers
   */
  'container_id'?: (string);
  /**
   * exec-stream: first replay the held events after this id (one a previous call saw), then go on live.
   * Unset = only events from now on. Ids restart when the service restarts (docs/LIFECYCLE.md).
   */
  'resume_after_id'?: (string);
  '_resume_after_id'?: "resume_after_id";
}
