import type { Writable } from 'node:stream';

/**
 * The executor's contract: everything the service asks of a container engine. DockerRuntime is the
 * implementation; unit tests substitute this interface through the CONTAINER_RUNTIME token.
 */
export type StreamName = 'stdout' | 'stderr';

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

export interface ContainerRuntime {
  /** Fails with 'unavailable' when the engine does not answer. */
  ping(): Promise<void>;
  /** Create a managed container from `image`, attach to it and wait on it, then start it. */
  run(spec: RunSpec, sink: OutputSink): Promise<StartedProcess>;
  /** Run a command in a running managed container. */
  exec(spec: ExecSpec, sink: OutputSink): Promise<StartedProcess>;
  /** Remove a managed container (best effort: already gone is fine). */
  remove(containerId: string): Promise<void>;
}
