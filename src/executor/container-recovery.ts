import type { OutputSink, StreamName } from '../common/streams';
import type { StartedProcess } from './container-runtime';

/** A container this service created (label exec-stream.managed=true), as found at start-up. */
export interface ManagedContainer {
  containerId: string;
  /** Its exec-stream.session label. */
  sessionId: string;
  running: boolean;
}

/** What re-adopting a container after a restart needs to know of the output already recorded. */
export interface ReadoptSpec {
  containerId: string;
  /** Bytes of each stream already recorded: Docker's log is read from its start and these are skipped. */
  recorded: Record<StreamName, number>;
  /** The last recorded bytes of each stream (a few KiB): Docker's bytes just before the skip point must
   *  equal them, else Docker's log no longer starts where ours did (rotated) and counting is unsafe. */
  recordedTail: Record<StreamName, Buffer>;
  /**
   * Reads recorded bytes of a stream back (the session's files). Given, the whole log is checked against
   * them once the container has exited: Docker 20.10's log follow can duplicate or drop bytes across a
   * log rotation (docs/DURABILITY.md), and a session must then end with data_loss, not an exit code.
   */
  readRecorded?: (stream: StreamName, position: number, length: number) => Promise<Buffer>;
}

export interface ExecState {
  running: boolean;
  exitCode?: number;
}

/**
 * Restart recovery (docs/DURABILITY.md): finding this instance's containers and re-adopting a run's
 * container after a restart or an engine outage (CONTAINER_RECOVERY; DockerRecovery). Optional: a
 * backend without it cannot re-adopt, and unfinished sessions then end with an explicit error. Reports
 * nothing to the lifecycle bus.
 */
export interface ContainerRecovery {
  /** Every managed container of this instance, running or not. */
  listManaged(): Promise<ManagedContainer[]>;
  /** Output the container produced since `recorded` (from the engine's own log), then its live output
   *  and true exit code; `done` rejects (data_loss / aborted) where that cannot be known exactly. */
  readopt(spec: ReadoptSpec, sink: OutputSink): Promise<StartedProcess>;
  /**
   * An exec's output since `recorded` and its true exit code, where the engine kept a record of it (an
   * exec in a container made with one); `done` rejects (aborted / data_loss) where they cannot be known.
   */
  readoptExec(spec: ReadoptSpec & { execId: string; sessionId: string }, sink: OutputSink): Promise<StartedProcess>;
  /** An exec's state, or undefined when the engine no longer knows it. */
  execState(execId: string): Promise<ExecState | undefined>;
}
