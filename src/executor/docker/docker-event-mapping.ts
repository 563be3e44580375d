import type { ContainerEventType, NewLifecycleEvent, StatusAfter } from '../../lifecycle/lifecycle-event';
import { LABEL_SESSION } from './labels';
import { signalName } from '../../common/signals';

/** The fields of a Docker /events message this service reads. */
export interface DockerEventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Docker action → lifecycle type and the status after it. Actions not listed are not transitions here. */
const ACTIONS: Record<string, { type: ContainerEventType; status: StatusAfter }> = {
  create: { type: 'created', status: 'created' },
  start: { type: 'started', status: 'running' },
  pause: { type: 'paused', status: 'paused' },
  unpause: { type: 'resumed', status: 'running' },
  die: { type: 'exited', status: 'exited' },
  oom: { type: 'oom', status: 'running' },
  kill: { type: 'killed', status: 'running' },
  destroy: { type: 'destroyed', status: 'removed' },
};

/**
 * One Docker event → the lifecycle event it reports, or undefined when it is none of ours (other types,
 * attach/resize/exec_* and `stop`, which Docker reports besides the kill and die it is made of).
 */
export function lifecycleFromDocker(msg: DockerEventMessage): NewLifecycleEvent | undefined {
  if (msg.Type !== 'container' || !msg.Action || !msg.Actor?.ID) return undefined;
  const known = ACTIONS[msg.Action];
  if (!known) return undefined;
  const attrs = msg.Actor.Attributes ?? {};
  const event: NewLifecycleEvent = {
    containerId: msg.Actor.ID,
    type: known.type,
    status: known.status,
    source: 'docker',
    sessionId: attrs[LABEL_SESSION] || undefined,
    timestampNs: eventTimeNs(msg),
  };
  if (msg.Action === 'die') {
    const code = Number(attrs.exitCode);
    if (Number.isInteger(code)) event.exitCode = code;
  }
  if (msg.Action === 'kill') {
    const sig = Number(attrs.signal);
    if (Number.isInteger(sig) && sig > 0) {
      event.signal = sig;
      event.message = `${signalName(sig) ?? `signal ${sig}`} (${sig}) sent to the container's main process`;
    }
  }
  if (msg.Action === 'oom') event.message = 'the kernel OOM killer acted in this container (memory limit reached)';
  return event;
}

export function eventTimeNs(msg: DockerEventMessage): bigint | undefined {
  if (typeof msg.timeNano === 'number') return BigInt(Math.round(msg.timeNano / 1000)) * 1000n; // float precision
  if (typeof msg.time === 'number') return BigInt(msg.time) * 1_000_000_000n;
  return undefined;
}

/** A key that is the same for the same Docker event seen twice (a `since` replay after a reconnect). */
export function dockerEventKey(msg: DockerEventMessage): string {
  return `${msg.Actor?.ID}|${msg.Action}|${msg.timeNano ?? msg.time}`;
}
