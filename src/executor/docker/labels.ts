/** Labels on every container this service creates: how an instance finds, re-adopts and cleans up its own. */
export const LABEL_MANAGED = 'exec-stream.managed';
export const LABEL_SESSION = 'exec-stream.session';
/** The creating instance's EXEC_REPLICA_ID: instances sharing one engine never touch each other's containers. */
export const LABEL_REPLICA = 'exec-stream.replica';

export function managedLabels(sessionId: string, replicaId: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_SESSION]: sessionId, [LABEL_REPLICA]: replicaId };
}

/** Created by this instance (replica `replicaId`); another instance's container is as foreign as an unmanaged one. */
export function isManaged(labels: Record<string, string> | null | undefined, replicaId: string): boolean {
  return labels?.[LABEL_MANAGED] === 'true' && labels?.[LABEL_REPLICA] === replicaId;
}

/** Docker label filters (ANDed) selecting this instance's containers, for /containers/json and /events. */
export function managedFilter(replicaId: string): string[] {
  return [`${LABEL_MANAGED}=true`, `${LABEL_REPLICA}=${replicaId}`];
}
