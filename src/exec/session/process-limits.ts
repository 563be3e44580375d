import type { ExecConfig } from '../../common/config/exec-config';
import { MIN_MEMORY_BYTES } from '../../common/config/limits-config';
import { ExecError } from '../../common/errors';
import type { ContainerLimits } from '../../executor';
import type { TimeoutSpec } from './session-timeouts';

/** Start's limits and timeouts as asked (0 / undefined = the service's default). */
export interface RequestedLimits {
  memoryBytes?: number;
  cpus?: number;
  pidsLimit?: number;
  readOnlyRootfs?: boolean;
  timeoutMs?: number;
  idleTimeoutMs?: number;
  killGraceMs?: number;
  outputLimitBytes?: number;
}

/**
 * A run's container limits: the request, else the EXEC_DEFAULT_* setting; a request above its
 * EXEC_MAX_* is INVALID_ARGUMENT naming the field and the maximum (0 in the result = no limit).
 */
export function resolveContainerLimits(r: RequestedLimits, c: ExecConfig): ContainerLimits {
  const pick = (field: string, asked: number | undefined, def: number, max: number, setting: string): number => {
    if (!asked) return def;
    if (max > 0 && asked > max) {
      throw new ExecError('invalid', `${field} ${asked} is above the maximum ${max} (${setting})`, {
        reason: 'FIELD_INVALID',
        field: `start.${field}`,
        metadata: { setting, maximum: String(max) },
      });
    }
    return asked;
  };
  const memoryBytes = pick('memory_bytes', r.memoryBytes, c.EXEC_DEFAULT_MEMORY_BYTES, c.EXEC_MAX_MEMORY_BYTES, 'EXEC_MAX_MEMORY_BYTES');
  if (memoryBytes && memoryBytes < MIN_MEMORY_BYTES) {
    throw new ExecError('invalid', `memory_bytes ${memoryBytes} is below Docker's minimum ${MIN_MEMORY_BYTES} (6 MiB)`, {
      reason: 'FIELD_INVALID',
      field: 'start.memory_bytes',
    });
  }
  const cpus = pick('cpus', r.cpus, c.EXEC_DEFAULT_CPUS, c.EXEC_MAX_CPUS, 'EXEC_MAX_CPUS');
  return {
    memoryBytes,
    nanoCpus: Math.round(cpus * 1e9),
    pidsLimit: pick('pids_limit', r.pidsLimit, c.EXEC_DEFAULT_PIDS_LIMIT, c.EXEC_MAX_PIDS_LIMIT, 'EXEC_MAX_PIDS_LIMIT'),
    readOnlyRootfs: r.readOnlyRootfs ?? c.EXEC_READ_ONLY_ROOTFS,
  };
}

/** Start's timeouts (run and exec), each at most EXEC_MAX_TIMEOUT_MS; kill_grace_ms 0 = EXEC_KILL_GRACE_MS. */
export function resolveTimeouts(r: RequestedLimits, c: ExecConfig): TimeoutSpec {
  for (const [field, ms] of [
    ['timeout_ms', r.timeoutMs],
    ['idle_timeout_ms', r.idleTimeoutMs],
  ] as const) {
    if (c.EXEC_MAX_TIMEOUT_MS > 0 && (ms ?? 0) > c.EXEC_MAX_TIMEOUT_MS) {
      throw new ExecError('invalid', `${field} ${ms} is above the maximum ${c.EXEC_MAX_TIMEOUT_MS} (EXEC_MAX_TIMEOUT_MS)`, {
        reason: 'FIELD_INVALID',
        field: `start.${field}`,
        metadata: { setting: 'EXEC_MAX_TIMEOUT_MS', maximum: String(c.EXEC_MAX_TIMEOUT_MS) },
      });
    }
  }
  return { timeoutMs: r.timeoutMs ?? 0, idleTimeoutMs: r.idleTimeoutMs ?? 0, killGraceMs: r.killGraceMs || c.EXEC_KILL_GRACE_MS };
}

/** Start.output_limit_bytes: 0 = `max` (EXEC_SESSION_OUTPUT_BYTES as resolved); above it INVALID_ARGUMENT naming both. */
export function resolveOutputLimit(asked: number | undefined, max: number): number {
  if (!asked) return max;
  if (asked > max) throw new ExecError('invalid', `output_limit_bytes ${asked} is above the maximum ${max} (EXEC_SESSION_OUTPUT_BYTES)`);
  return asked;
}
