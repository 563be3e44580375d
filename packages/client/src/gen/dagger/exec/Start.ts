// Original file: proto/exec.proto

import type { Long } from '@grpc/proto-loader';

export interface Start {
  'container_id'?: (string);
  'exec_id'?: (string);
  'command'?: (string)[];
  'env'?: ({[key: string]: string});
  'working_dir'?: (string);
  'tty'?: (boolean);
  'session_id'?: (string);
  'replay_from_sequence'?: (number | string | Long);
  'client_id'?: (string);
  /**
   * exec-stream: run a new container from this image (locally present; nothing is pulled).
   */
  'image'?: (string);
  /**
   * exec-stream: deliver output as output_chunk (sequence, timestamp, gap_before) instead of
   * plain stdout/stderr messages. Reference clients leave it false and get the plain messages.
   */
  'sequenced'?: (boolean);
  /**
   * exec-stream: keep the process's stdin open for SessionRequest.stdin (like `docker run -i`);
   * a tty session always has it. Without it the process reads EOF at once.
   */
  'open_stdin'?: (boolean);
}

export interface Start__Output {
  'container_id'?: (string);
  'exec_id'?: (string);
  'command'?: (string)[];
  'env'?: ({[key: string]: string});
  'working_dir'?: (string);
  'tty'?: (boolean);
  'session_id'?: (string);
  'replay_from_sequence'?: (string);
  'client_id'?: (string);
  /**
   * exec-stream: run a new container from this image (locally present; nothing is pulled).
   */
  'image'?: (string);
  /**
   * exec-stream: deliver output as output_chunk (sequence, timestamp, gap_before) instead of
   * plain stdout/stderr messages. Reference clients leave it false and get the plain messages.
   */
  'sequenced'?: (boolean);
  /**
   * exec-stream: keep the process's stdin open for SessionRequest.stdin (like `docker run -i`);
   * a tty session always has it. Without it the process reads EOF at once.
   */
  'open_stdin'?: (boolean);
}
