import { Inject, Injectable } from '@nestjs/common';
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerRecovery, ExecState, ManagedContainer, ReadoptSpec } from '../container-recovery';
import type { OutputSink, ProcessOutcome, StartedProcess, StreamName } from '../container-runtime';
import { fromDockerError } from './docker-errors';
import { pumpOutput } from './output-pump';
import { LABEL_SESSION, managedFilter } from './labels';
import { LogSkipper } from './log-skipper';

/** A log stream that ends while the container still runs is read again from the start, this often. */
const MAX_PASSES = 5;

/**
 * Re-adoption of containers after a restart (docs/DURABILITY.md). Docker cannot re-attach a client
 * to output already produced, but the container's log (driver `local`) holds every byte of each
 * stream; so a re-adopted container's output is Docker's log, followed (follow=true) until the
 * container exits, with the bytes already recorded skipped by count (LogSkipper). The follow stream
 * also carries the live output, so there is no window between "what was logged" and "what is live".
 */
@Injectable()
export class DockerRecovery implements ContainerRecovery {
  private readonly log: Logger;
  private readonly replicaId: string;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(EXEC_CONFIG) config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'docker' });
    this.replicaId = config.EXEC_REPLICA_ID;
  }

  /** This instance's containers (labels exec-stream.managed and exec-stream.replica), whatever their state. */
  async listManaged(): Promise<ManagedContainer[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: managedFilter(this.replicaId) } }).catch((err) => {
      throw fromDockerError(err, 'list of managed containers');
    });
    // Paused and restarting containers have a live process: never removed as if they had ended.
    return list.map((c) => ({ containerId: c.Id, sessionId: c.Labels?.[LABEL_SESSION] ?? '', running: ['running', 'paused', 'restarting'].includes(c.State) }));
  }

  async readopt(spec: ReadoptSpec, sink: OutputSink): Promise<StartedProcess> {
    const short = spec.containerId.slice(0, 12);
    const container = this.docker.getContainer(spec.containerId);
    const info = await container.inspect().catch((err) => {
      throw fromDockerError(err, `container ${short}`);
    });
    const driver = info.HostConfig?.LogConfig?.Type;
    if (driver !== 'local' && driver !== 'json-file') {
      throw new ExecError('data_loss', `container ${short} logs with driver "${driver}": its output while exec-stream was down cannot be read back`);
    }
    const log = this.log.child({ containerId: short });
    const skipper = new LogSkipper(sink, spec.recorded, spec.recordedTail, `container ${short}`);
    const tty = !!info.Config?.Tty;
    const done = (async (): Promise<ProcessOutcome> => {
      for (let pass = 1; ; pass++) {
        await this.readLog(container, tty, skipper);
        skipper.verifyComplete();
        const state = await container.inspect().catch((err) => {
          throw new ExecError('aborted', `container ${short} vanished while its output was being recovered: ${fromDockerError(err, 'inspect').message}`);
        });
        if (!state.State?.Running) {
          const exitCode = state.State?.ExitCode;
          if (typeof exitCode !== 'number') throw new ExecError('aborted', `container ${short} stopped without an exit code`);
          // Docker sets State.Error when it could not run or restore the container: its code is not the process's.
          if (state.State?.Error)
            throw new ExecError(
              'aborted',
              `container ${short} stopped with Docker reporting "${state.State.Error.slice(0, 200)}": its exit code (${exitCode}) is not the process's`,
            );
          if (spec.readRecorded) await this.checkAgainstLog(container, tty, skipper.recorded, spec.readRecorded, short);
          log.info({ exitCode, recovered: skipper.recorded, passes: pass }, 're-adopted container exited');
          return { exitCode, oomKilled: !!state.State?.OOMKilled };
        }
        // The follow stream ended early (a log rotation Docker did not follow): read again, skipping
        // everything recorded so far.
        if (pass >= MAX_PASSES) throw new ExecError('aborted', `Docker's log of container ${short} keeps ending while it runs`);
        log.warn({ pass }, 'log stream ended while the container runs; reading again');
        skipper.rewind();
      }
    })();
    done.catch(() => undefined); // observed by the session through `done`
    log.info({ recorded: spec.recorded, running: !!info.State?.Running, tty }, 'container re-adopted');
    return { containerId: info.Id, done };
  }

  async execState(execId: string): Promise<ExecState | undefined> {
    try {
      const info = await this.docker.getExec(execId).inspect();
      return { running: !!info.Running, exitCode: typeof info.ExitCode === 'number' ? info.ExitCode : undefined };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw fromDockerError(err, `exec ${execId.slice(0, 12)}`);
    }
  }

  /**
   * Once the container has exited, its log (no longer growing, so read exactly) must be the end of what
   * was recorded while following it, byte for byte (sha256 of each side): Docker 20.10's follow
   * duplicates (`local`) or drops (`json-file`) bytes when the log rotates under it. A log that rotated
   * its oldest files away is shorter than what was recorded, and only its bytes are compared.
   */
  private async checkAgainstLog(
    container: Docker.Container,
    tty: boolean,
    recorded: Record<StreamName, number>,
    readRecorded: NonNullable<ReadoptSpec['readRecorded']>,
    short: string,
  ): Promise<void> {
    const logged = { stdout: { bytes: 0, hash: createHash('sha256') }, stderr: { bytes: 0, hash: createHash('sha256') } };
    await this.readLog(container, tty, {
      write: (stream, data) => {
        logged[stream].bytes += data.length;
        logged[stream].hash.update(data);
      },
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const { bytes, hash } = logged[stream];
      const same = bytes <= recorded[stream] && (await sha256Of(readRecorded, stream, recorded[stream] - bytes, bytes)) === hash.digest('hex');
      if (!same) {
        throw new ExecError(
          'data_loss',
          `container ${short}: the ${recorded[stream]} bytes of ${stream} recorded while following Docker's log do not end with the ${bytes} bytes ` +
            'its log holds now that the container has exited (Docker duplicated or dropped bytes while following a rotating log): this output is not exact',
        );
      }
    }
  }

  /** One pass over the log from its first byte, following it until Docker ends the stream. */
  private async readLog(container: Docker.Container, tty: boolean, sink: OutputSink): Promise<void> {
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true }).catch((err) => {
      throw fromDockerError(err, `logs of container ${container.id.slice(0, 12)}`);
    })) as unknown as Readable;
    await pumpOutput(stream, tty, sink, 'log stream');
  }
}

/** sha256 of `length` recorded bytes of `stream` from `position`, read 1 MiB at a time. */
async function sha256Of(read: NonNullable<ReadoptSpec['readRecorded']>, stream: StreamName, position: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < length; at += 1 << 20) hash.update(await read(stream, position + at, Math.min(1 << 20, length - at)));
  return hash.digest('hex');
}
