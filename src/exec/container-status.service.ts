import { Inject, Injectable } from '@nestjs/common';
import { ExecError } from '../common/errors';
import { CONTAINER_CONTROL } from '../common/tokens';
import type { ContainerControl, ContainerState } from '../executor/container-control';
import { ResourceSampler } from './resource-sampler';
import type { Session } from './session';
import { SessionManager } from './session-manager';

export interface ContainerStatusRequest {
  container_id?: string;
  include_resource_usage?: boolean;
}

export interface ContainerStatusResponse {
  container_id: string;
  status: string;
  exit_code?: number;
  /** Unix ns, as every timestamp of this service. */
  started_at: string;
  finished_at?: string;
  resource_usage?: {
    cpu_percent: number;
    memory_bytes: string;
    memory_limit: string;
    io_read_bytes: string;
    io_write_bytes: string;
  };
}

/**
 * ContainerStatus: Docker's inspect (milliseconds, never waits on the container), plus resource usage
 * from ResourceSampler. A container Docker no longer has is answered from its retained session
 * (status `exited` with the session's exit code, or `unknown` when the session's outcome was lost).
 */
@Injectable()
export class ContainerStatusService {
  constructor(
    @Inject(CONTAINER_CONTROL) private readonly control: ContainerControl,
    private readonly sessions: SessionManager,
    private readonly sampler: ResourceSampler,
  ) {}

  async status(req: ContainerStatusRequest): Promise<ContainerStatusResponse> {
    const id = requireContainerId(req.container_id);
    const state = await this.control.inspect(id).catch((err) => {
      if (err instanceof ExecError && err.kind === 'not_found') return undefined;
      throw err;
    });
    if (!state) {
      const session = this.retainedSession(id);
      if (!session) throw new ExecError('not_found', `container ${id} not found: Docker does not have it and no retained session ran in it`);
      return fromSession(session);
    }
    if (!state.managed) throw notManaged(id);
    const res = fromState(state);
    if (req.include_resource_usage && (state.running || state.paused)) {
      const u = await this.sampler.usage(state.id);
      res.resource_usage = {
        cpu_percent: Math.round(u.cpuPercent * 100) / 100,
        memory_bytes: String(u.memoryBytes),
        memory_limit: String(u.memoryLimit),
        io_read_bytes: String(u.ioReadBytes),
        io_write_bytes: String(u.ioWriteBytes),
      };
    }
    return res;
  }

  /** The container's run session, else its newest exec session; read-only. */
  private retainedSession(id: string): Session | undefined {
    const matches = this.sessions.all().filter((s) => s.containerId && s.containerId.startsWith(id));
    return matches.find((s) => s.info.kind === 'run') ?? matches.sort((a, b) => b.info.createdAt - a.info.createdAt)[0];
  }
}

export function requireContainerId(value: string | undefined): string {
  const id = (value ?? '').trim();
  if (!id) throw new ExecError('invalid', 'container_id is empty: give the id (or a unique prefix) of a managed container');
  return id;
}

export function notManaged(id: string): ExecError {
  return new ExecError('permission', `container ${id} is not managed by exec-stream (no label exec-stream.managed=true)`);
}

function fromState(s: ContainerState): ContainerStatusResponse {
  return {
    container_id: s.id,
    status: s.status,
    exit_code: s.exitCode,
    started_at: String(s.startedAtNs ?? 0n),
    finished_at: s.finishedAtNs !== undefined ? String(s.finishedAtNs) : undefined,
  };
}

function fromSession(s: Session): ContainerStatusResponse {
  const outcome = s.outcome;
  const ms = (v?: number) => (v === undefined ? undefined : String(BigInt(v) * 1_000_000n));
  return {
    container_id: s.containerId,
    status: !outcome ? 'unknown' : 'exitCode' in outcome ? 'exited' : 'unknown',
    exit_code: outcome && 'exitCode' in outcome ? outcome.exitCode : undefined,
    started_at: ms(s.startedAt) ?? '0',
    finished_at: ms(s.finishedAt),
  };
}
