/**
 * What the status and control RPCs ask of the container engine, beside running processes
 * (ContainerRuntime): CONTAINER_CONTROL; DockerControl implements it, unit tests substitute it. Reports
 * nothing to the lifecycle bus (ContainerControlHandler does, source 'control').
 */
export interface ContainerState {
  /** Full id. */
  id: string;
  /** Created by this instance: exec-stream.managed=true and exec-stream.replica = EXEC_REPLICA_ID. */
  managed: boolean;
  /** The exec-stream replica that created it (label exec-stream.replica), when one did: on an engine shared by replicas, its owner. */
  replica?: string;
  sessionId?: string;
  /** Docker's State.Status: created, running, paused, restarting, removing, exited, dead. */
  status: string;
  running: boolean;
  paused: boolean;
  /** Set once the container has exited. */
  exitCode?: number;
  oomKilled: boolean;
  /** Unix ns; undefined when Docker has none (never started / still running). */
  startedAtNs?: bigint;
  finishedAtNs?: bigint;
}

/** One reading of a container's counters. */
export interface ResourceSample {
  /** When Docker read the counters (Unix ns). */
  readAtNs: bigint;
  /** Cumulative CPU time of the container's cgroup, ns. */
  cpuTotalNs: number;
  /** Memory in use, less the page cache Docker's CLI also leaves out (inactive file pages). */
  memoryBytes: number;
  memoryLimit: number;
  ioReadBytes: number;
  ioWriteBytes: number;
}

export interface ExecInfo {
  id: string;
  containerId: string;
  running: boolean;
  /** Host pid of the exec's process (0 once it ended). */
  pid: number;
  exitCode?: number;
}

export interface SampleWatch {
  stop(): void;
}

export interface ContainerControl {
  /** NOT_FOUND when Docker has no such container (full id, unique prefix or name). */
  inspect(containerId: string): Promise<ContainerState>;
  pause(containerId: string): Promise<void>;
  unpause(containerId: string): Promise<void>;
  /** Sends `signal` to the container's main process. */
  kill(containerId: string, signal: number): Promise<void>;
  /**
   * Docker's streaming stats: a sample about every second until stop() or the container stops;
   * `onStopped` once Docker reports it not running (or the stream ends or cannot be opened).
   */
  watchSamples(containerId: string, onSample: (s: ResourceSample) => void, onStopped?: () => void): SampleWatch;
  inspectExec(execId: string): Promise<ExecInfo>;
  /**
   * Sends `signal` to an exec's process (Docker has no API for it, moby#9098): see docker-exec-signal.ts.
   * Returns the process's pid inside the container.
   */
  signalExec(execId: string, signal: number): Promise<{ pidInContainer: number }>;
}

/**
 * CPU use between two samples as a percentage of ONE CPU: CPU time consumed / wall time between the
 * two readings × 100 (a process spinning on two cores reads 200). Wall time comes from Docker's own
 * `read` timestamps, so it is the window the counters really cover.
 */
export function cpuPercent(prev: ResourceSample, now: ResourceSample): number {
  const wallNs = Number(now.readAtNs - prev.readAtNs);
  const cpuNs = now.cpuTotalNs - prev.cpuTotalNs;
  if (wallNs <= 0 || cpuNs < 0) return 0;
  return (cpuNs / wallNs) * 100;
}
