import { Inject, Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import type { Logger } from '../common/logger';
import { DOCKER_CLIENT, ROOT_LOGGER } from '../common/tokens';
import type { ContainerControl, ContainerState, ExecInfo, ResourceSample, SampleWatch } from './container-control';
import { fromDockerError } from './docker-errors';
import { signalExecProcess } from './docker-exec-signal';
import { dockerTimeNs } from './docker-time';
import { JsonLines } from './json-lines';
import { isManaged, LABEL_SESSION } from './labels';
import { sampleFromStats, type DockerStats } from './stats-sample';

/** Pause, resume, signal, inspect and stats against Docker. Every failure becomes an ExecError. */
@Injectable()
export class DockerControl implements ContainerControl {
  private readonly log: Logger;

  constructor(@Inject(DOCKER_CLIENT) private readonly docker: Docker, @Inject(ROOT_LOGGER) root: Logger) {
        this.log = root.child({ component: 'docker-control' });
  }

  async inspect(containerId: string): Promise<ContainerState> {
    const info = await this.docker
      .getContainer(containerId)
      .inspect()
      .catch((err) => {
        throw fromDockerError(err, `container ${containerId}`);
      });
    const s = info.State ?? ({} as Docker.ContainerInspectInfo['State']);
    // Exited, dead, or being removed after its exit: the process is over and Docker has its code.
    const exited = !s.Running && s.Status !== 'created' && !!dockerTimeNs(s.FinishedAt);
    return {
      id: info.Id,
      managed: isManaged(info.Config?.Labels),
      sessionId: info.Config?.Labels?.[LABEL_SESSION],
      status: s.Status ?? 'unknown',
      running: !!s.Running,
      paused: !!s.Paused,
      exitCode: exited ? s.ExitCode : undefined,
      oomKilled: !!s.OOMKilled,
      startedAtNs: dockerTimeNs(s.StartedAt),
      finishedAtNs: exited ? dockerTimeNs(s.FinishedAt) : undefined,
    };
  }

  async pause(containerId: string): Promise<void> {
    await this.docker
      .getContainer(containerId)
      .pause()
      .catch((err) => {
        throw fromDockerError(err, `pause of container ${containerId}`);
      });
    this.log.info({ containerId }, 'container paused');
  }

  async unpause(containerId: string): Promise<void> {
    await this.docker
      .getContainer(containerId)
      .unpause()
      .catch((err) => {
        throw fromDockerError(err, `resume of container ${containerId}`);
      });
    this.log.info({ containerId }, 'container resumed');
  }

  async kill(containerId: string, signal: number): Promise<void> {
    await this.docker
      .getContainer(containerId)
      .kill({ signal: String(signal) })
      .catch((err) => {
        throw fromDockerError(err, `signal ${signal} to container ${containerId}`);
      });
    this.log.info({ containerId, signal }, 'signal sent to container');
  }

  watchSamples(containerId: string, onSample: (s: ResourceSample) => void): SampleWatch {
    let stopped = false;
    let stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;
    const parser = new JsonLines((value) => {
      const s = value as DockerStats;
      if (!s.read || s.read.startsWith('0001-')) return; // a stopped container's empty sample
      onSample(sampleFromStats(s));
    });
    this.docker
      .getContainer(containerId)
      .stats({ stream: true })
      .then((s) => {
        stream = s as unknown as typeof stream;
        if (stopped) return stream?.destroy?.();
        stream!.on('data', (b: Buffer) => parser.push(b));
        stream!.on('error', () => undefined); // ends with the container or the daemon: nothing to do
      })
      .catch((err) => this.log.debug({ containerId, err: (err as Error).message }, 'stats stream not opened'));
    return {
      stop: () => {
        stopped = true;
        stream?.destroy?.();
      },
    };
  }

  async inspectExec(execId: string): Promise<ExecInfo> {
    const info = await this.docker
      .getExec(execId)
      .inspect()
      .catch((err) => {
        throw fromDockerError(err, `exec ${execId}`);
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
    const pid = await signalExecProcess(this.docker, execId, signal);
    this.log.info({ execId, signal, pidInContainer: pid }, 'signal sent to exec');
    return { pidInContainer: pid };
  }
}
