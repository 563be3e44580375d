import type { Writable } from 'node:stream';

/**
 * The executor's contract: everything the service asks of a container engine. DockerRuntime is the
 * implementation; unit tests substitute this interface through the CONTAINER_RUNTIME token.
 */
export type StreamName = 'stdout' | 'stderr';

/** A new terminal's size, before any Resize. */
export const DEFAULT_TTY = { width: 80, height: 24 } as const;

/** Where a process's output goes, chunk by chunk, in the order the engine gave it. */
export interface OutputSink {
  write(stream: StreamName, data: Buffer): void;
}

export interface ProcessSpec {
  /** Session that owns the process; written into container labels. */
  sessionId: string;
  command: string[];
  env: Record<string, string>;
  workingDir?: string;
  tty: boolean;
  /** Keep stdin open so that the session can write to it. */
  openStdin: boolean;
}

export interface RunSpec extends ProcessSpec {
  image: string;
}

export interface ExecSpec extends ProcessSpec {
  containerId: string;
}

export interface ProcessOutcome {
  /** The process's exit code; 128 + n when killed by signal n. */
  exitCode: number;
}

export interface StartedProcess {
  containerId: string;
  /** Docker exec id for an exec; undefined for a run. */
  execId?: string;
  /**
   * Settles after the process exited AND every byte of its output went into the sink. Rejects with an
   * ExecError ('unavailable' / 'aborted') when the outcome cannot be known: never a made-up code.
   */
  done: Promise<ProcessOutcome>;
  /** The process's stdin, when openStdin was asked for; end() sends EOF. */
  stdin?: Writable;
  /** Resize the terminal of a tty process. */
  resize?(width: number, height: number): Promise<void>;
}

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
}

export interface ExecState {
  running: boolean;
  exitCode?: number;
}

export interface ContainerRuntime {
  /** Fails with 'unavailable' when the engine does not answer. */
  ping(): Promise<void>;
  /**
   * Create a managed container from `image`, attach to it and wait on it, then start it. `cancel`
   * abandons the set-up (rejects ABORTED; a container already created is removed); no effect after.
   * Every Docker request has the EXEC_DOCKER_TIMEOUT_MS deadline (UNAVAILABLE naming it).
   */
  run(spec: RunSpec, sink: OutputSink, cancel?: AbortSignal): Promise<StartedProcess>;
  /** Run a command in a running managed container; `cancel` and deadlines as for run. */
  exec(spec: ExecSpec, sink: OutputSink, cancel?: AbortSignal): Promise<StartedProcess>;
  /** Remove a managed container (best effort: already gone is fine). */
  remove(containerId: string): Promise<void>;

  // Restart recovery (docs/DURABILITY.md). Optional so that test doubles need not implement them; a
  // runtime without them cannot re-adopt, and unfinished sessions then end with an explicit error.
  /** Every managed container, running or not. */
  listManaged?(): Promise<ManagedContainer[]>;
  /** Output the container produced since `recorded` (from the engine's own log), then its live output
   *  and true exit code; `done` rejects (data_loss / aborted) where that cannot be known exactly. */
  readopt?(spec: ReadoptSpec, sink: OutputSink): Promise<StartedProcess>;
  /** An exec's state, or undefined when the engine no longer knows it. */
  execState?(execId: string): Promise<ExecState | undefined>;
}
