import { Inject, Injectable } from '@nestjs/common';
import { ExecError } from '../../common/errors';
import type { ContainerStatusRequest__Output, ContainerStatusResponse } from '@exec-stream/client/wire';
import { CONTAINER_CONTROL } from '../../common/tokens';
import type { ContainerControl, ContainerState } from '../../executor';
import { quoted, requiredId } from '../../common/request-ids';
import { ResourceSampler } from './resource-sampler';
import type { Session } from '../session';
import { SessionManager } from '../session';
import { CopiesInFlight } from './copies-in-flight';
import { msToNs } from '../../common/time';

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
      res.resource_usage = u;
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

/** ContainerStatusRequest.container_id and the like: a valid id (request-ids.ts), never empty. */
export function requireContainerId(value: string | undefined): string {
  return requiredId('container_id', value, 'the id (or a unique prefix) of a managed container');
}

/**
 * Docker's state of the container `id` names. A prefix matching more than one container this service
 * knows (in Docker, or of retained sessions) is INVALID_ARGUMENT, never answered for one of them.
 */
export async function inspectUnambiguous(control: ContainerControl, sessions: SessionManager, id: string): Promise<ContainerState> {
  const retained = sessions.containerByPrefix(id);
  const state = await control.inspect(id);
  if (retained && state.id !== retained && state.id.startsWith(id)) {
    throw new ExecError(
      'invalid',
      `container id prefix ${id} is ambiguous: it matches ${state.id.slice(0, 12)} and ${retained.slice(0, 12)}; give more of the id`,
      { reason: 'ID_AMBIGUOUS', resource: { type: 'container', name: id } },
    );
  }
  return state;
}

export function notManaged(id: string): ExecError {
  return new ExecError(
    'permission',
    `container ${id} is not managed by this exec-stream instance (labels exec-stream.managed=true and exec-stream.replica=<EXEC_REPLICA_ID>)`,
    { reason: 'CONTAINER_NOT_MANAGED', resource: { type: 'container', name: id } },
  );
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
