import type { ClientReadableStream } from '@grpc/grpc-js';
import type { CallOptions } from '../call-options';
import { ControlClient, LifecycleSubscription, type ContainerStatusInfo, type ControlResult, type RemoveSessionResult } from '../control-client';
import { ExecError } from '../exec-error';
import type { ContainerLifecycleEvent__Output, ListSessionsRequest, ListSessionsResponse__Output } from '../gen';
import { GRPCConnectionManager } from '../grpc-connection-manager';
import { FakeLifecycleCall } from './fake-calls';
import { FakeExecService, ScriptedFailure, statusOf, type FakeSession, type ScriptedError } from './fake-exec-service';

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

/** `fn`'s value as a promise, or its throw as the rejection (as a call to the service answers). */
function answer<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

/** A scripted error as the client rejects with it. */
const rejection = (e: ScriptedError) => ExecError.fromStatus(statusOf(e));

/**
 * A ControlClient over the same FakeExecService as a FakeExecClient: status, pause / resume (a paused
 * session's script waits), signal (the process ends with 128 + n, Outcome killed_by_request, unless
 * its script ignores signals), ListSessions, RemoveSession and lifecycle events, with the service's
 * refusals (CONTAINER_NOT_FOUND, CONTAINER_PAUSED, SESSION_RUNNING, …) as ExecErrors.
 */
export class FakeControlClient extends ControlClient {
  constructor(readonly service: FakeExecService = new FakeExecService()) {
    super(new GRPCConnectionManager({ address: 'fake-exec-service:0' }));
  }

  override lifecycle(options: { containerId?: string; resumeAfterId?: number } = {}, call?: CallOptions): LifecycleSubscription {
    const fake = new FakeLifecycleCall(this.service, options.containerId ?? '', options.resumeAfterId);
    return new LifecycleSubscription(fake as unknown as ClientReadableStream<ContainerLifecycleEvent__Output>, call?.signal);
  }

  override status(containerId: string, includeResourceUsage = false): Promise<ContainerStatusInfo> {
    return answer(() => {
      const s = this.session(containerId);
      const ns = (ms: number) => BigInt(ms) * 1_000_000n;
      return {
        containerId: s.containerId,
        status: s.finishedAt ? 'exited' : s.paused ? 'paused' : 'running',
        exitCode: s.finishedAt ? (s.exitCode ?? undefined) : undefined,
        startedAtNs: ns(s.startedAt),
        finishedAtNs: s.finishedAt ? ns(s.finishedAt) : undefined,
        resourceUsage:
          includeResourceUsage && !s.finishedAt ? { cpuPercent: 0, memoryBytes: 0, memoryLimit: 0, ioReadBytes: 0, ioWriteBytes: 0, readings: 2 } : undefined,
      };
    });
  }

  override pause(containerId: string): Promise<ControlResult> {
    return answer(() => {
      const s = this.running(containerId);
      if (s.paused) throw rejection({ reason: 'CONTAINER_PAUSED', message: `container ${short(s)} is already paused`, resource: container(s) });
      s.paused = true;
      this.service.publish(s, 'paused', 'paused');
      return { success: true, message: `container ${short(s)} paused` };
    });
  }

  override resume(containerId: string): Promise<ControlResult> {
    return answer(() => {
      const s = this.session(containerId);
      if (!s.paused)
        throw rejection({ reason: 'CONTAINER_NOT_PAUSED', message: `container ${short(s)} is not paused: nothing to resume`, resource: container(s) });
      s.paused = false;
      this.service.publish(s, 'resumed', 'running');
      this.service.changed(s);
      return { success: true, message: `container ${short(s)} resumed` };
    });
  }

  override signal(containerId: string, signal: string, execId?: string): Promise<ControlResult> {
    return answer(() => {
      const name = signal.trim().toUpperCase();
      const n = /^\d+$/.test(name) ? Number(name) : SIGNALS[name.startsWith('SIG') ? name : `SIG${name}`];
      if (!n || n > 64) throw rejection({ reason: 'FIELD_INVALID', message: `unknown signal ${JSON.stringify(signal)}` });
      const main = this.running(containerId);
      if (main.paused)
        throw rejection({ reason: 'CONTAINER_PAUSED', message: `container ${short(main)} is paused: resume it first`, resource: container(main) });
      const target = execId ? this.service.sessions.find((x) => x.execId === execId && x.containerId === main.containerId) : main;
      if (!target) throw rejection({ reason: 'EXEC_NOT_FOUND', message: `exec ${execId} not found`, resource: { type: 'exec', name: execId ?? '' } });
      if (target.finishedAt)
        throw rejection({ reason: 'EXEC_NOT_RUNNING', message: `exec ${execId} is not running`, resource: { type: 'exec', name: execId ?? '' } });
      const scripted = this.service.scriptOf(target);
      this.service.signal(target, n, !!scripted?.ignoreSignals);
      return { success: true, message: `signal ${n} sent` };
    });
  }

  override listSessions(request: ListSessionsRequest = {}): Promise<ListSessionsResponse__Output> {
    return answer(() => {
      const matching = this.service.sessions.filter(
        (s) =>
          (!request.container_id || s.containerId.startsWith(request.container_id)) &&
          (!request.session_id || s.id === request.session_id) &&
          (!request.state || (request.state === 'running') === !s.finishedAt) &&
          (!request.mode || (request.mode === 'exec') === !!s.execId) &&
          (!request.request_id || s.start.request_id === request.request_id) &&
          Object.entries(request.labels ?? {}).every(([k, v]) => s.start.labels?.[k] === v),
      );
      return { sessions: matching.map((s) => this.service.info(s)) as ListSessionsResponse__Output['sessions'], next_page_token: '', unreachable_replicas: [] };
    });
  }

  override async removeSession(sessionId: string, options: { force?: boolean } = {}): Promise<RemoveSessionResult> {
    const s = this.attempt(() => this.service.find({ session_id: sessionId }));
    let killed = false;
    if (!s.finishedAt) {
      if (!options.force) {
        throw rejection({
          reason: 'SESSION_RUNNING',
          message: `session ${s.id} is running: stop its process first, or remove it with force`,
          resource: { type: 'session', name: s.id },
        });
      }
      await new Promise<void>((resolve) => {
        const unwatch = this.service.watch(s, () => s.finishedAt && (unwatch(), resolve()));
        this.service.signal(s, 9, false);
      });
      killed = true;
    }
    this.service.remove(s);
    return { sessionId: s.id, killed };
  }

  private session(containerId: string): FakeSession {
    return this.attempt(() => this.service.container(containerId));
  }

  private running(containerId: string): FakeSession {
    const s = this.session(containerId);
    if (s.finishedAt) throw rejection({ reason: 'CONTAINER_NOT_RUNNING', message: `container ${short(s)} is exited, not running`, resource: container(s) });
    return s;
  }

  private attempt<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ScriptedFailure) throw rejection(err.scripted);
      throw err;
    }
  }
}

const short = (s: FakeSession) => s.containerId.slice(0, 12);
const container = (s: FakeSession) => ({ type: 'container' as const, name: s.containerId });
