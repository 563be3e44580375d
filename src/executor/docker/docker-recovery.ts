import type { OutputSink, StreamName } from '../../common/streams';
import { Inject, Injectable } from '@nestjs/common';
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerRecovery, ExecState, ManagedContainer, ReadoptSpec } from '../container-recovery';
import type { ProcessOutcome, StartedProcess } from '../container-runtime';
import { fromDockerError } from './docker-errors';
import { pumpOutput } from './output-pump';
import { LABEL_SESSION, managedFilter } from './labels';
import { LogSkipper } from './log-skipper';
import { dockerCall, rethrowAs, type DockerCall } from './docker-call';
import { execRecordDir, LABEL_RECORDER, RECORDER_VERSION, SHIM_RECORD_DIR } from './shim/shim-payload';
import { readRecord, vanished, waitStopped } from './shim/shim-readopt';

/** A log stream that ends while the container still runs is read again from the start, this often. */
const MAX_PASSES = 5;

/**
 * Re-adoption of containers after a restart (docs/DURABILITY.md). Docker cannot re-attach a client to
 * output already produced, but a run's container records its own output (exec-stream-shim, in its own
 * volume): a re-adopted container's output is that record, followed while it runs and read whole once
 * it has stopped, with the bytes already recorded skipped by count (LogSkipper). The follow also
 * carries the live output, so there is no window between "what was recorded" and "what is live".
 */
@Injectable()
export class DockerRecovery implements ContainerRecovery {
  private readonly log: Logger;
  private readonly replicaId: string;
  private readonly call: DockerCall;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(EXEC_CONFIG) config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'docker' });
    this.replicaId = config.EXEC_REPLICA_ID;
    this.call = dockerCall(config);
  }

  /** This instance's containers (labels exec-stream.managed and exec-stream.replica), whatever their state. */
  async listManaged(): Promise<ManagedContainer[]> {
    const list = await this.docker
      .listContainers({ all: true, filters: { label: managedFilter(this.replicaId) } })
      .catch(rethrowAs('list of managed containers'));
    // Paused and restarting containers have a live process: never removed as if they had ended.
    return list.map((c) => ({ containerId: c.Id, sessionId: c.Labels?.[LABEL_SESSION] ?? '', running: ['running', 'paused', 'restarting'].includes(c.State) }));
  }

  async readopt(spec: ReadoptSpec, sink: OutputSink): Promise<StartedProcess> {
    const short = spec.containerId.slice(0, 12);
    const container = this.docker.getContainer(spec.containerId);
    const info = await this.call(`inspect of container ${short}`, (abortSignal) => container.inspect({ abortSignal }), { what: `container ${short}` });
    const log = this.log.child({ containerId: short });
    const tty = !!info.Config?.Tty;
    const recorder = info.Config?.Labels?.[LABEL_RECORDER];
    let done: Promise<ProcessOutcome>;
    if (info.State?.Status === 'created') {
      // exec-stream stopped while setting it up: no process ever ran, there is no output and no exit code.
      done = Promise.reject(new ExecError('aborted', `container ${short} was never started: exec-stream stopped while setting it up`));
    } else if (recorder === RECORDER_VERSION) {
      const skipper = new LogSkipper(sink, spec.recorded, spec.recordedTail, `the output record of container ${short}`);
      done = (async () => {
        await readRecord(container, SHIM_RECORD_DIR, skipper, this.call, log);
        await waitStopped(container);
        const outcome = await this.exitOf(container, short);
        log.info({ ...outcome, recovered: skipper.recorded }, 're-adopted container exited');
        return outcome;
      })();
    } else if (recorder) {
      throw new ExecError('data_loss', `container ${short} has an output record of format "${recorder}", which this exec-stream cannot read`);
    } else {
      done = this.readoptFromLog(container, info, spec, sink, log);
    }
    done.catch(() => undefined); // observed by the session through `done`
    log.info({ recorded: spec.recorded, running: !!info.State?.Running, tty, source: recorder ? 'output record' : "Docker's log" }, 'container re-adopted');
    return { containerId: info.Id, done };
  }

  /**
   * A container made before the output record existed (an upgrade): Docker's log, followed, then read
   * once more after the exit (docs/DURABILITY.md "Containers from before the output record").
   */
  private readoptFromLog(
    container: Docker.Container,
    info: Docker.ContainerInspectInfo,
    spec: ReadoptSpec,
    sink: OutputSink,
    log: Logger,
  ): Promise<ProcessOutcome> {
    const short = spec.containerId.slice(0, 12);
    const driver = info.HostConfig?.LogConfig?.Type;
    if (driver !== 'local' && driver !== 'json-file') {
      return Promise.reject(
        new ExecError('data_loss', `container ${short} logs with driver "${driver}": its output while exec-stream was down cannot be read back`),
      );
    }
    const skipper = new LogSkipper(sink, spec.recorded, spec.recordedTail, `Docker's log of container ${short}`);
    const tty = !!info.Config?.Tty;
    return (async (): Promise<ProcessOutcome> => {
      for (let pass = 1; ; pass++) {
        await this.readLog(container, tty, skipper);
        skipper.verifyComplete();
        const state = await container.inspect().catch(vanished(short));
        if (!state.State?.Running) {
          const outcome = await this.exitOf(container, short);
          if (spec.readRecorded) await this.finishFromLog(container, tty, sink, skipper.recorded, spec.readRecorded, short);
          log.info({ ...outcome, recovered: skipper.recorded, passes: pass }, 're-adopted container exited');
          return outcome;
        }
        // The follow stream ended early (a log rotation Docker did not follow): read again, skipping
        // everything recorded so far.
        if (pass >= MAX_PASSES) throw new ExecError('aborted', `Docker's log of container ${short} keeps ending while it runs`);
        log.warn({ pass }, 'log stream ended while the container runs; reading again');
        skipper.rewind();
      }
    })();
  }

  /** The true outcome of a stopped container, from Docker's state; aborted where Docker's code is not the process's. */
  private async exitOf(container: Docker.Container, short: string): Promise<ProcessOutcome> {
    const state = await this.call(`inspect of container ${short}`, (abortSignal) => container.inspect({ abortSignal })).catch(vanished(short));
    const exitCode = state.State?.ExitCode;
    if (state.State?.Running || typeof exitCode !== 'number') throw new ExecError('aborted', `container ${short} stopped without an exit code`);
    // Docker sets State.Error when it could not run or restore the container: its code is not the process's.
    if (state.State?.Error)
      throw new ExecError(
        'aborted',
        `container ${short} stopped with Docker reporting "${state.State.Error.slice(0, 200)}": its exit code (${exitCode}) is not the process's`,
      );
    return { exitCode, oomKilled: !!state.State?.OOMKilled };
  }

  async readoptExec(spec: ReadoptSpec & { execId: string; sessionId: string }, sink: OutputSink): Promise<StartedProcess> {
    const short = spec.containerId.slice(0, 12);
    const execShort = spec.execId.slice(0, 12);
    const container = this.docker.getContainer(spec.containerId);
    const info = await this.call(`inspect of container ${short}`, (abortSignal) => container.inspect({ abortSignal }), { what: `container ${short}` });
    if (info.Config?.Labels?.[LABEL_RECORDER] !== RECORDER_VERSION) {
      const state = await this.execState(spec.execId).catch(() => undefined);
      const what = !state ? 'Docker no longer knows it' : state.running ? 'it is still running' : `it exited with code ${state.exitCode}`;
      throw new ExecError(
        'aborted',
        `exec-stream restarted while this exec ran, in a container made without an output record: output after what was recorded is unknown (${what})`,
      );
    }
    const log = this.log.child({ containerId: short, execId: execShort });
    const skipper = new LogSkipper(sink, spec.recorded, spec.recordedTail, `the output record of exec ${execShort}`);
    const done = (async (): Promise<ProcessOutcome> => {
      const recordedEnd = await readRecord(container, execRecordDir(spec.sessionId), skipper, this.call, log);
      // The record's end holds the exit code; without it (the container was stopped under the exec),
      // Docker's, if it still knows the exec.
      const state = recordedEnd === undefined ? await this.execState(spec.execId).catch(() => undefined) : undefined;
      const exitCode = recordedEnd ?? (state && !state.running ? state.exitCode : undefined);
      if (exitCode === undefined) throw new ExecError('aborted', `exec ${execShort} ended without an exit code in its record or in Docker`);
      log.info({ exitCode, recovered: skipper.recorded }, 're-adopted exec exited');
      return { exitCode };
    })();
    done.catch(() => undefined); // observed by the session through `done`
    log.info({ recorded: spec.recorded, containerRunning: !!info.State?.Running }, 'exec re-adopted');
    return { containerId: info.Id, execId: spec.execId, done };
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
   * Once the container has exited, its log no longer grows and is read exactly; Docker 20.10's follow
   * duplicates (`local`) or drops (`json-file`) bytes when the log rotates under it. Per stream, what
   * was recorded while following must be a prefix of the whole log (then the rest of the log is
   * appended: the session ends exact) or, where the log rotated its oldest files away, end with all
   * the log holds (sha256 of each side); anything else is data_loss.
   */
  private async finishFromLog(
    container: Docker.Container,
    tty: boolean,
    sink: OutputSink,
    recorded: Record<StreamName, number>,
    readRecorded: NonNullable<ReadoptSpec['readRecorded']>,
    short: string,
  ): Promise<void> {
    const logged = { stdout: { bytes: 0, prefix: createHash('sha256') }, stderr: { bytes: 0, prefix: createHash('sha256') } };
    const whole = { stdout: createHash('sha256'), stderr: createHash('sha256') };
    await this.readLog(container, tty, {
      write: (stream, data) => {
        const at = logged[stream].bytes;
        logged[stream].bytes += data.length;
        whole[stream].update(data);
        if (at < recorded[stream]) logged[stream].prefix.update(data.subarray(0, recorded[stream] - at));
      },
    });
    let longer = false;
    for (const stream of ['stdout', 'stderr'] as const) {
      const { bytes, prefix } = logged[stream];
      const same =
        bytes >= recorded[stream]
          ? (await sha256Of(readRecorded, stream, 0, recorded[stream])) === prefix.digest('hex')
          : (await sha256Of(readRecorded, stream, recorded[stream] - bytes, bytes)) === whole[stream].digest('hex');
      if (!same) {
        throw new ExecError(
          'data_loss',
          `container ${short}: the ${recorded[stream]} bytes of ${stream} recorded while following Docker's log do not match the ${bytes} bytes ` +
            'its log holds now that the container has exited (Docker duplicated or dropped bytes while following a rotating log): this output is not exact',
        );
      }
      longer ||= bytes > recorded[stream];
    }
    // The follow stopped short of the end (it missed the last writes): the rest, from the static log.
    if (longer)
      await this.readLog(
        container,
        tty,
        new LogSkipper(sink, recorded, { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }, `Docker's log of container ${short}`),
      );
  }

  /** One pass over the log from its first byte, following it until Docker ends the stream. */
  private async readLog(container: Docker.Container, tty: boolean, sink: OutputSink): Promise<void> {
    const stream = (await container
      .logs({ follow: true, stdout: true, stderr: true })
      .catch(rethrowAs(`logs of container ${container.id.slice(0, 12)}`))) as unknown as Readable;
    await pumpOutput(stream, tty, sink, 'log stream');
  }
}

/** sha256 of `length` recorded bytes of `stream` from `position`, read 1 MiB at a time. */
async function sha256Of(read: NonNullable<ReadoptSpec['readRecorded']>, stream: StreamName, position: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < length; at += 1 << 20) hash.update(await read(stream, position + at, Math.min(1 << 20, length - at)));
  return hash.digest('hex');
}
