import { Inject, Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ExecConfig } from '../../common/config/exec-config';
import type { ContainerControl, ContainerState, ExecInfo, ResourceSample, SampleWatch } from '../container-control';
import { dockerMessage, fromDockerError, isStateConflict } from './docker-errors';
import { ExecError, type ErrorDetail } from '../../common/errors';
import { dockerCall, type DockerCall } from './docker-call';
import { signalExecProcess } from './docker-exec-signal';
import { dockerTimeNs } from './docker-time';
import { JsonLines } from './json-lines';
import { isManaged, LABEL_MANAGED, LABEL_REPLICA, LABEL_SESSION } from './labels';
import { sampleFromStats, type DockerStats } from './stats-sample';

/** Pause, resume, signal, inspect and stats against Docker. Every failure becomes an ExecError. */
@Injectable()
export class DockerControl implements ContainerControl {
  private readonly log: Logger;
  private readonly call: DockerCall;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(ROOT_LOGGER) root: Logger,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
  ) {
    this.log = root.child({ component: 'docker-control' });
    this.call = dockerCall(config);
  }

  async inspect(containerId: string): Promise<ContainerState> {
    const info = await this.call(`inspect of container ${containerId}`, (abortSignal) => this.docker.getContainer(containerId).inspect({ abortSignal }), {
      what: `container ${containerId}`,
    });
    const s = info.State ?? ({} as Docker.ContainerInspectInfo['State']);
    // Exited, dead, or being removed after its exit: the process is over and Docker has its code.
    const exited = !s.Running && s.Status !== 'created' && !!dockerTimeNs(s.FinishedAt);
    return {
      id: info.Id,
      managed: isManaged(info.Config?.Labels, this.config.EXEC_REPLICA_ID),
      replica: info.Config?.Labels?.[LABEL_MANAGED] === 'true' ? info.Config?.Labels?.[LABEL_REPLICA] : undefined,
      sessionId: info.Config?.Labels?.[LABEL_SESSION],
      // `removing` right after an exit is Docker deleting it (our removal): the answer is its end.
      status: exited && s.Status === 'removing' ? 'exited' : (s.Status ?? 'unknown'),
      running: !!s.Running,
      paused: !!s.Paused,
      exitCode: exited ? s.ExitCode : undefined,
      oomKilled: !!s.OOMKilled,
      startedAtNs: dockerTimeNs(s.StartedAt),
      finishedAtNs: exited ? dockerTimeNs(s.FinishedAt) : undefined,
    };
  }

  async pause(containerId: string): Promise<void> {
    await this.call(`pause of container ${containerId}`, (abortSignal) => this.docker.getContainer(containerId).pause({ abortSignal })).catch((err) =>
      this.failed(err, containerId, 'pause'),
    );
    this.log.info({ containerId }, 'container paused');
  }

  async unpause(containerId: string): Promise<void> {
    await this.call(`resume of container ${containerId}`, (abortSignal) => this.docker.getContainer(containerId).unpause({ abortSignal })).catch((err) =>
      this.failed(err, containerId, 'resume'),
    );
    this.log.info({ containerId }, 'container resumed');
  }

  async kill(containerId: string, signal: number): Promise<void> {
    await this.call(`kill of container ${containerId}`, (abortSignal) =>
      this.docker.getContainer(containerId).kill({ signal: String(signal), abortSignal }),
    ).catch((err) => this.failed(err, containerId, `signal ${signal}`));
    this.log.info({ containerId, signal }, 'signal sent to container');
  }

  /**
   * A failed pause, resume or kill. Where the container's state changed between the caller's check
   * and Docker's act (another call, or the process's exit, won the race), the error says the state
   * Docker has now: FAILED_PRECONDITION, never UNAVAILABLE.
   */
  private async failed(err: unknown, containerId: string, action: string): Promise<never> {
    const error = fromDockerError(err, `${action} of container ${containerId}`);
    if (!isStateConflict(err)) throw error;
    const now = await this.inspect(containerId).catch(() => undefined);
    const state = now ? (now.paused ? 'paused' : now.status) : 'gone';
    throw new ExecError(
      'precondition',
      `container ${containerId.slice(0, 12)} is ${state}: the ${action} lost a race with another change (${dockerMessage(err)})`,
      error.detail as ErrorDetail<'precondition'> | undefined,
    );
  }

  watchSamples(containerId: string, onSample: (s: ResourceSample) => void, onStopped?: () => void): SampleWatch {
    let stopped = false;
    let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    let ended = false;
    const end = () => {
      if (ended || stopped) return;
      ended = true;
      onStopped?.();
    };
    const parser = new JsonLines((value) => {
      const s = value as DockerStats;
      if (!s.read || s.read.startsWith('0001-')) return end(); // the empty sample of a container not running
      onSample(sampleFromStats(s));
    });
    // The deadline covers opening the stream only; readings then come for as long as it runs.
    this.call(`stats of container ${containerId.slice(0, 12)}`, (abortSignal) =>
      this.docker.getContainer(containerId).stats({ stream: true, abortSignal } as { stream: true }),
    )
      .then((s) => {
        stream = s;
        if (stopped) return stream?.destroy?.();
        stream.on('data', (b: Buffer) => parser.push(b));
        stream.on('error', () => undefined); // ends with the container or the daemon: nothing to do
        stream.on('end', end);
      })
      .catch((err) => {
        this.log.debug({ containerId, err: (err as Error).message }, 'stats stream not opened');
        end();
      });
    return {
      stop: () => {
        stopped = true;
        stream?.destroy?.();
      },
    };
  }

  async inspectExec(execId: string): Promise<ExecInfo> {
    const info = await this.call(`inspect of exec ${execId}`, (abortSignal) => this.docker.getExec(execId).inspect({ abortSignal }), {
      what: `exec ${execId}`,
    });
    return {
      id: info.ID,
      containerId: info.ContainerID,
      running: !!info.Running,
      pid: info.Pid ?? 0,
      exitCode: info.Running ? undefined : (info.ExitCode ?? undefined),
    };
  }

  async signalExec(execId: string, signal: number): Promise<{ pidInContainer: number }> {
    const pid = await signalExecProcess(this.docker, execId, signal, this.call);
    this.log.info({ execId, signal, pidInContainer: pid }, 'signal sent to exec');
    return { pidInContainer: pid };
  }
}
