// Original file: proto/exec.proto

import type { RegistryAuth as _dagger_exec_RegistryAuth, RegistryAuth__Output as _dagger_exec_RegistryAuth__Output } from '../../dagger/exec/RegistryAuth';
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
  /**
   * exec-stream: memory limit in bytes (run). 0 = the service's default (EXEC_DEFAULT_MEMORY_BYTES);
   * above EXEC_MAX_MEMORY_BYTES is INVALID_ARGUMENT.
   */
  'memory_bytes'?: (number | string | Long);
  /**
   * exec-stream: CPUs, fractional (run). 0 = default (EXEC_DEFAULT_CPUS); above EXEC_MAX_CPUS is INVALID_ARGUMENT.
   */
  'cpus'?: (number | string);
  /**
   * exec-stream: process (pids) limit (run). 0 = default (EXEC_DEFAULT_PIDS_LIMIT); above EXEC_MAX_PIDS_LIMIT is INVALID_ARGUMENT.
   */
  'pids_limit'?: (number | string | Long);
  /**
   * exec-stream: the user the process runs as (run and exec): a name or uid[:gid]. Empty = the image's.
   */
  'user'?: (string);
  /**
   * exec-stream: labels kept with the session (and on a run's container); ListSessions filters by them.
   */
  'labels'?: ({[key: string]: string});
  /**
   * exec-stream: hard timeout from start, in ms (run and exec): SIGTERM, kill_grace_ms, then SIGKILL. 0 = none.
   */
  'timeout_ms'?: (number | string | Long);
  /**
   * exec-stream: idle timeout in ms: no output for this long ends the process as timeout_ms does. 0 = none.
   */
  'idle_timeout_ms'?: (number | string | Long);
  /**
   * exec-stream: grace between SIGTERM and SIGKILL on a timeout, in ms. 0 = default (EXEC_KILL_GRACE_MS).
   */
  'kill_grace_ms'?: (number | string | Long);
  /**
   * exec-stream: client-chosen idempotency key (≤ 128 bytes): a Start with a request_id already used
   * within retention attaches to the session it created instead of starting a second process.
   */
  'request_id'?: (string);
  /**
   * exec-stream: image pull policy (run): "never" (default), "if_missing" or "always".
   */
  'pull'?: (string);
  /**
   * exec-stream: registry credentials for this pull; unset = the service's (EXEC_REGISTRY_AUTH_FILE).
   */
  'registry_auth'?: (_dagger_exec_RegistryAuth | null);
  /**
   * exec-stream: read-only root filesystem with a writable /tmp (run). Unset = EXEC_READ_ONLY_ROOTFS.
   */
  'read_only_rootfs'?: (boolean);
  /**
   * exec-stream: the most output (stdout and stderr bytes together) the session records (run and exec);
   * reaching it ends the process (SIGKILL, Outcome.reason output_limit). 0 = the service's
   * EXEC_SESSION_OUTPUT_BYTES; above it is INVALID_ARGUMENT.
   */
  'output_limit_bytes'?: (number | string | Long);
  '_read_only_rootfs'?: "read_only_rootfs";
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
  /**
   * exec-stream: memory limit in bytes (run). 0 = the service's default (EXEC_DEFAULT_MEMORY_BYTES);
   * above EXEC_MAX_MEMORY_BYTES is INVALID_ARGUMENT.
   */
  'memory_bytes'?: (string);
  /**
   * exec-stream: CPUs, fractional (run). 0 = default (EXEC_DEFAULT_CPUS); above EXEC_MAX_CPUS is INVALID_ARGUMENT.
   */
  'cpus'?: (number);
  /**
   * exec-stream: process (pids) limit (run). 0 = default (EXEC_DEFAULT_PIDS_LIMIT); above EXEC_MAX_PIDS_LIMIT is INVALID_ARGUMENT.
   */
  'pids_limit'?: (string);
  /**
   * exec-stream: the user the process runs as (run and exec): a name or uid[:gid]. Empty = the image's.
   */
  'user'?: (string);
  /**
   * exec-stream: labels kept with the session (and on a run's container); ListSessions filters by them.
   */
  'labels'?: ({[key: string]: string});
  /**
   * exec-stream: hard timeout from start, in ms (run and exec): SIGTERM, kill_grace_ms, then SIGKILL. 0 = none.
   */
  'timeout_ms'?: (string);
  /**
   * exec-stream: idle timeout in ms: no output for this long ends the process as timeout_ms does. 0 = none.
   */
  'idle_timeout_ms'?: (string);
  /**
   * exec-stream: grace between SIGTERM and SIGKILL on a timeout, in ms. 0 = default (EXEC_KILL_GRACE_MS).
   */
  'kill_grace_ms'?: (string);
  /**
   * exec-stream: client-chosen idempotency key (≤ 128 bytes): a Start with a request_id already used
   * within retention attaches to the session it created instead of starting a second process.
   */
  'request_id'?: (string);
  /**
   * exec-stream: image pull policy (run): "never" (default), "if_missing" or "always".
   */
  'pull'?: (string);
  /**
   * exec-stream: registry credentials for this pull; unset = the service's (EXEC_REGISTRY_AUTH_FILE).
   */
  'registry_auth'?: (_dagger_exec_RegistryAuth__Output);
  /**
   * exec-stream: read-only root filesystem with a writable /tmp (run). Unset = EXEC_READ_ONLY_ROOTFS.
   */
  'read_only_rootfs'?: (boolean);
  /**
   * exec-stream: the most output (stdout and stderr bytes together) the session records (run and exec);
   * reaching it ends the process (SIGKILL, Outcome.reason output_limit). 0 = the service's
   * EXEC_SESSION_OUTPUT_BYTES; above it is INVALID_ARGUMENT.
   */
  'output_limit_bytes'?: (string);
  '_read_only_rootfs'?: "read_only_rootfs";
}
