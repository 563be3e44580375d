import { Inject, Injectable } from '@nestjs/common';
import { ExecError, type ErrorDetail } from '../../common/errors';
import type { ContainerControlResponse as ControlResponse, ContainerSignalRequest__Output as SignalRequest } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { CONTAINER_CONTROL, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerControl, ContainerState } from '../../executor';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import { optionalId } from '../../common/request-ids';
import { CopiesInFlight, inspectUnambiguous, notManaged, parseSignal, requireContainerId } from '../container';
import { SessionManager } from '../session';

/**
 * ContainerPause / ContainerResume / ContainerSignal. Checks what the caller can fix before asking
 * Docker (empty id, bad signal, unmanaged or stopped container), then acts, then publishes the
 * transition to the lifecycle bus (source 'control'; Docker's own report of it is deduped), so that a
 * subscriber sees it in order with what follows (a kill before the exit it causes).
 */
@Injectable()
export class ContainerControlHandler {
  private readonly log: Logger;

  constructor(
    @Inject(CONTAINER_CONTROL) private readonly control: ContainerControl,
    private readonly bus: LifecycleBus,
    private readonly sessions: SessionManager,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly copies: CopiesInFlight,
  ) {
    this.log = root.child({ component: 'container-control' });
  }

  async pause(containerId: string | undefined): Promise<ControlResponse> {
    const state = await this.managedState(containerId, 'ContainerPause');
    if (state.paused) throw new ExecError('precondition', `container ${short(state.id)} is already paused`, paused(state));
    if (!state.running) throw notRunning(state);
    await this.control.pause(state.id);
    this.bus.publish({ containerId: state.id, type: 'paused', status: 'paused', source: 'control', sessionId: state.sessionId });
    return { success: true, message: `container ${short(state.id)} paused` };
  }

  async resume(containerId: string | undefined): Promise<ControlResponse> {
    const state = await this.managedState(containerId, 'ContainerResume');
    if (!state.paused) {
      throw new ExecError('precondition', `container ${short(state.id)} is ${state.status}, not paused: nothing to resume`, {
        reason: 'CONTAINER_NOT_PAUSED',
        resource: { type: 'container', name: state.id },
        metadata: { state: state.status },
      });
    }
    await this.control.unpause(state.id);
    this.bus.publish({ containerId: state.id, type: 'resumed', status: 'running', source: 'control', sessionId: state.sessionId });
    return { success: true, message: `container ${short(state.id)} resumed` };
  }

  async signal(req: SignalRequest): Promise<ControlResponse> {
    const id = requireContainerId(req.container_id);
    const sig = parseSignal(req.signal);
    const execId = optionalId('exec_id', req.exec_id);
    const state = await this.managedState(id, 'ContainerSignal');
    if (state.paused) {
      throw new ExecError('precondition', `container ${short(state.id)} is paused: resume it first (a frozen process cannot act on a signal)`, paused(state));
    }
    if (!state.running) throw notRunning(state);
    if (!execId) {
      // Published just BEFORE the signal goes: the exit it causes is reported by other paths (Docker's
      // wait, Docker's events) that can beat the kill call's own answer, and `killed` must come first.
      // Docker's own `kill` event, arriving later, is deduped against this one.
      this.publishKilled(state.id, sig.number, state.sessionId, undefined, `${sig.name} (${sig.number}) sent to the container's main process`);
      this.markKilledByRequest(state.id);
      await this.control.kill(state.id, sig.number);
      return { success: true, message: `${sig.name} (${sig.number}) sent to container ${short(state.id)}` };
    }
    const exec = await this.control.inspectExec(execId);
    if (exec.containerId !== state.id) {
      throw new ExecError('invalid', `exec ${short(execId)} belongs to container ${short(exec.containerId)}, not ${short(state.id)}`, {
        reason: 'FIELD_INVALID',
        field: 'exec_id',
      });
    }
    // One that has not started yet is waited for by signalExec (the Docker adapter asks again meanwhile).
    if (!exec.running && exec.exitCode !== undefined) {
      throw new ExecError('precondition', `exec ${short(execId)} is not running (exit code ${exec.exitCode})`, {
        reason: 'EXEC_NOT_RUNNING',
        resource: { type: 'exec', name: exec.id, owner: exec.containerId },
      });
    }
    this.markKilledByRequest(state.id, exec.id);
    const { pidInContainer } = await this.control.signalExec(exec.id, sig.number);
    const sessionId = this.execSessionId(state.id, exec.id);
    this.publishKilled(
      state.id,
      sig.number,
      sessionId,
      exec.id,
      `${sig.name} (${sig.number}) sent to exec ${short(exec.id)} (pid ${pidInContainer} in the container)`,
    );
    this.log.info({ containerId: short(state.id), execId: short(exec.id), signal: sig.name }, 'exec signalled');
    return { success: true, message: `${sig.name} (${sig.number}) sent to exec ${short(exec.id)} (pid ${pidInContainer} in container ${short(state.id)})` };
  }

  /** The `killed` transition this service caused (Docker's own `kill` event is deduped against it). */
  private publishKilled(containerId: string, signal: number, sessionId: string | undefined, execId: string | undefined, message: string): void {
    this.bus.publish({ containerId, type: 'killed', status: 'running', source: 'control', signal, sessionId, execId, message });
  }

  /** The managed container's state; UNAVAILABLE at once while a copy holds it (Docker would not answer `call` before it ends). */
  private async managedState(containerId: string | undefined, call: string): Promise<ContainerState> {
    const id = requireContainerId(containerId);
    this.copies.assertFree(id, call);
    const state = await inspectUnambiguous(this.control, this.sessions, id);
    if (!state.managed) throw notManaged(id);
    return state;
  }

  /**
   * Outcome.reason: a run's (or this exec's) session ended by a signal after this request says
   * killed_by_request (set before the signal goes, as the exit can beat the kill call's answer).
   */
  private markKilledByRequest(containerId: string, execId?: string): void {
    let session;
    try {
      session = this.sessions.findByContainer(containerId, execId);
    } catch {
      return; // not a process this service started
    }
    if (session.running && (execId ? session.execId === execId : session.info.kind === 'run')) session.killReason ??= 'killed_by_request';
  }

  private execSessionId(containerId: string, execId: string): string | undefined {
    try {
      return this.sessions.findByContainer(containerId, execId).id;
    } catch {
      return undefined; // an exec this service did not start
    }
  }
}

function short(id: string): string {
  return id.slice(0, 12);
}

function notRunning(state: ContainerState): ExecError {
  return new ExecError('precondition', `container ${short(state.id)} is ${state.status}, not running`, {
    reason: 'CONTAINER_NOT_RUNNING',
    resource: { type: 'container', name: state.id },
    metadata: { state: state.status },
  });
}

function paused(state: ContainerState): ErrorDetail<'precondition'> {
  return { reason: 'CONTAINER_PAUSED', resource: { type: 'container', name: state.id } };
}
