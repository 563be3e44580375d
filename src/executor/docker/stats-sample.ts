import type { ResourceSample } from '../container-control';
import { dockerTimeNs } from './docker-time';
import { nowNs } from '../../common/time';

/** The part of Docker's /containers/{id}/stats answer this service reads (cgroup v1 and v2). */
export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
}

export function sampleFromStats(s: DockerStats): ResourceSample {
  const mem = s.memory_stats ?? {};
  // As `docker stats` does: usage less the inactive page cache (v1: total_inactive_file, v2: inactive_file).
  const cache = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
  const usage = mem.usage ?? 0;
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase(); // v1 says Read/Write, v2 read/write
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  return {
    readAtNs: dockerTimeNs(s.read) ?? nowNs(),
    cpuTotalNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memoryBytes: usage > cache ? usage - cache : usage,
    memoryLimit: mem.limit ?? 0,
    ioReadBytes: read,
    ioWriteBytes: write,
  };
}
