import type Docker from 'dockerode';
import type { ExecConfig } from '../../common/config/exec-config';
import type { ContainerLimits } from '../container-runtime';

/**
 * The HostConfig part of a run's limits and secure defaults: memory (no swap beyond it), CPUs, pids,
 * no-new-privileges, every capability dropped but EXEC_CAPABILITIES, and optionally a read-only root
 * with a writable tmpfs /tmp (charged to the container's memory). Docker's own defaults where unset.
 */
export function hostLimits(limits: ContainerLimits | undefined, config: ExecConfig): Docker.HostConfig {
  return {
    SecurityOpt: ['no-new-privileges'],
    CapDrop: ['ALL'],
    CapAdd: [...config.capabilities],
    ...(limits?.memoryBytes ? { Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes } : {}),
    ...(limits?.nanoCpus ? { NanoCpus: limits.nanoCpus } : {}),
    ...(limits?.pidsLimit ? { PidsLimit: limits.pidsLimit } : {}),
    ...(limits?.readOnlyRootfs ? { ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,mode=1777' } } : {}),
  };
}
