import { Inject, Injectable } from '@nestjs/common';
import { ExecError } from '../../common/errors';
import type { ContainerStatusRequest__Output, ContainerStatusResponse } from '@exec-stream/client/wire';
import { CONTAINER_CONTROL } from '../../common/tokens';
import type { ContainerControl, ContainerState } from '../../executor';
import { quoted } from '../../common/request-ids';
import { CopiesInFlight, inspectUnambiguous, notManaged, requireContainerId, ResourceSampler } from '../container';
import type { Session } from '../session';
import { SessionManager } from '../session';
import { msToNs } from '../../common/time';

/**
 * ContainerStatus: Docker's inspect (milliseconds, never waits on the container), plus resource usage
 * from ResourceSampler. A container Docker no longer has is answered from its retained session
 * (status `exited` with the session's exit code, or `unknown` when the session's outcome was lost).
 */
@Injectable()
export class ContainerStatusHandler {
  constructor(
    @Inject(CONTAINER_CONTROL) private readonly control: ContainerControl,
    private readonly sessions: SessionManager,
    private readonly sampler: ResourceSampler,
    private readonly copies: CopiesInFlight,
  ) {}

  /** Timestamps are Unix ns, as every timestamp of this service. */
  async status(req: ContainerStatusRequest__Output): Promise<ContainerStatusResponse> {
    const id = requireContainerId(req.container_id);
    this.copies.assertFree(id, 'ContainerStatus'); // Docker's inspect would wait for the copy to end
    const state = await inspectUnambiguous(this.control, this.sessions, id).catch((err) => {
      if (err instanceof ExecError && err.kind === 'not_found') return undefined;
      throw err;
    });
    if (!state) {
      const session = this.retainedSession(id);
      if (!session) {
        throw new ExecError('not_found', `container ${quoted(id)} not found: Docker does not have it and no retained session ran in it`, {
          reason: 'CONTAINER_NOT_FOUND',
          resource: { type: 'container', name: id },
        });
      }
      return fromSession(session);
    }
    if (!state.managed) throw notManaged(id);
    const res = fromState(state);
    if (req.include_resource_usage && (state.running || state.paused)) {
      const u = await this.sampler.usage(state.id);
      if (!u) {
        // It stopped while its readings were awaited: answer its final state, without usage.
        const final = await this.status({ container_id: id });
        if (final.status !== 'running' && final.status !== 'paused') return final;
        throw new ExecError('unavailable', `Docker gave no resource readings for container ${state.id.slice(0, 12)}; retry`, { reason: 'DOCKER_ERROR' });
      }
      res.resource_usage = {
        cpu_percent: Math.round(u.cpuPercent * 100) / 100,
        memory_bytes: String(u.memoryBytes),
        memory_limit: String(u.memoryLimit),
        io_read_bytes: String(u.ioReadBytes),
        io_write_bytes: String(u.ioWriteBytes),
        readings: u.readings,
      };
    }
    return res;
  }

  /** The container's run session, else its newest exec session; read-only. */
  private retainedSession(id: string): Session | undefined {
    const full = this.sessions.containerByPrefix(id);
    const matches = this.sessions.all().filter((s) => !!full && s.containerId === full);
    return matches.find((s) => s.info.kind === 'run') ?? matches.sort((a, b) => b.info.createdAt - a.info.createdAt)[0];
  }
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
  const ms = (v?: number) => (v === undefined ? undefined : String(msToNs(v)));
  return {
    container_id: s.containerId,
    status: !outcome ? 'unknown' : 'exitCode' in outcome ? 'exited' : 'unknown',
    exit_code: outcome && 'exitCode' in outcome ? outcome.exitCode : undefined,
    started_at: ms(s.startedAt) ?? '0',
    finished_at: ms(s.finishedAt),
  };
}
