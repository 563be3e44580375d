import type { Writable } from 'node:stream';
import type { OutputSink } from '../common/streams';

/** A new terminal's size, before any Resize. */
export const DEFAULT_TTY = { width: 80, height: 24 } as const;

export interface ProcessSpec {
  /** Session that owns the process; written into container labels. */
  sessionId: string;
  command: string[];
  env: Record<string, string>;
  workingDir?: string;
  tty: boolean;
  /** Keep stdin open so that the session can write to it. */
  openStdin: boolean;
  /** The user the process runs as (name or uid[:gid]); unset = the image's. */
  user?: string;
}

/** A run's container limits (0 = none); the backend adds its secure defaults (no-new-privileges, capabilities). */
export interface ContainerLimits {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
  /** Read-only root file system with a writable tmpfs /tmp. */
  readOnlyRootfs: boolean;
}

export interface RunSpec extends ProcessSpec {
  image: string;
  /** Unset = no limits. */
  limits?: ContainerLimits;
  /** Caller's labels for the container; the managed labels are applied over them and cannot be overridden. */
  labels?: Record<string, string>;
}

export interface ExecSpec extends ProcessSpec {
  containerId: string;
  /**
   * True once the service itself is ending the exec (a timeout, the output limit, a request): its
   * SIGKILL is then the service's, and whether the container ended is not asked (ProcessOutcome.containerEnded).
   */
  killedByService?: () => boolean;
}

export interface ProcessOutcome {
  /** The process's exit code; 128 + n when killed by signal n. */
  exitCode: number;
  /** Docker's State.OOMKilled for a run's container (the kernel killed a process at the memory limit). */
  oomKilled?: boolean;
  /**
   * An exec's: it was killed (137) because its container's main process ended, which makes the kernel
   * SIGKILL every process left in the container (Docker then shows the container not running).
   */
  containerEnded?: boolean;
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

/**
 * Runs processes in containers: what the sessions ask of a container engine (CONTAINER_RUNTIME;
 * DockerRuntime; unit tests substitute it). Lifecycle duty: a runtime reports its own steps to the
 * LifecyclePublisher (LIFECYCLE_PUBLISHER), source 'executor', in this order: `registered` (status
 * created, with the session id) as soon as run() created the container, `started` (running) once it
 * started, `exited` (exited, exitCode) just before run()'s `done` resolves, and `unregistered`
 * (removed) whenever remove() or an abandoned set-up removed a container. exec() reports nothing.
 */
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
}
