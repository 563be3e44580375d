/** Labels on every container this service creates: how it finds, re-adopts and cleans up its own. */
export const LABEL_MANAGED = 'exec-stream.managed';
export const LABEL_SESSION = 'exec-stream.session';

export function managedLabels(sessionId: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_SESSION]: sessionId };
}

export function isManaged(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL_MANAGED] === 'true';
}
