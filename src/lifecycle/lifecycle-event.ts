/** One real transition of a managed container (or of the service's view of it). */
export interface LifecycleEvent {
  /** Monotonically increasing within this process; subscribers resume after an id they saw. */
  id: number;
  containerId: string;
  /** registered | started | exited | unregistered (executor); more from Docker events later. */
  type: string;
  /** Docker-style status after the transition: created, running, exited, removed … */
  status: string;
  /** Unix ns. */
  timestampNs: bigint;
  exitCode?: number;
  message?: string;
  sessionId?: string;
}

export type NewLifecycleEvent = Omit<LifecycleEvent, 'id' | 'timestampNs'> & { timestampNs?: bigint };
