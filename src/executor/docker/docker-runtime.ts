import { Inject, Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, LIFECYCLE_PUBLISHER, ROOT_LOGGER } from '../../common/tokens';
import type { ExecConfig } from '../../common/config/exec-config';
import type { ContainerRuntime, ExecSpec, ProcessOutcome, RunSpec, StartedProcess } from '../container-runtime';
import { DEFAULT_TTY } from '../container-runtime';
import type { LifecyclePublisher } from '../lifecycle-publisher';
import { fromDockerError } from './docker-errors';
import { isGiveUp } from './docker-deadline';
import { dockerCall, type DockerCall } from './docker-call';
import { pumpOutput } from './output-pump';
import { isManaged, managedLabels } from './labels';
import { hostLimits } from './host-limits';
import { logConfig } from './log-config';
import { execRecordDir, LABEL_RECORDER, RECORDER_VERSION, SHIM_VOLUME, shimEntrypoint, shimUpload } from './shim/shim-payload';
import { sleep } from '../../common/sleep';
import type { OutputSink } from '../../common/streams';

/**
 * Runs and execs processes in Docker containers (CONTAINER_RUNTIME), publishing the lifecycle steps
 * ContainerRuntime lists. Every call maps its failure to an ExecError.
 */
@Injectable()
export class DockerRuntime implements ContainerRuntime {
  private readonly log: Logger;
  private readonly call: DockerCall;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    @Inject(LIFECYCLE_PUBLISHER) private readonly lifecycle: LifecyclePublisher,
  ) {
    this.log = root.child({ component: 'docker' });
    this.call = dockerCall(config);
  }

  async ping(): Promise<void> {
    await this.call('ping', (abortSignal) => (this.docker.ping as (o: object) => Promise<unknown>).call(this.docker, { abortSignal }), { what: 'ping' });
  }

  async run(spec: RunSpec, sink: OutputSink, cancel?: AbortSignal): Promise<StartedProcess> {
    // dockerode cannot abort an image inspect: past the deadline its request is only abandoned.
    const image = await this.call(`inspect of image ${spec.image}`, () => this.docker.getImage(spec.image).inspect(), {
      what: `image ${spec.image} (not on the engine: Start.pull if_missing or always pulls it)`,
      cancel,
    });
    if (!spec.command.length && !image.Config?.Cmd?.length && !image.Config?.Entrypoint?.length) {
      throw new ExecError('invalid', `image ${spec.image} has no default command: give Start.command`);
    }
    // The shim runs the image's entrypoint and command as its child and records their output in the
    // container's own volume before passing it on (docs/DURABILITY.md): the source of restart recovery.
    const container = await this.call(
      `create of a container from image ${spec.image}`,
      (abortSignal) =>
        this.docker.createContainer({
          abortSignal,
          Image: spec.image,
          Entrypoint: [...shimEntrypoint(spec.tty, this.config.EXEC_RECOVERY_RECORD_BYTES), ...(image.Config?.Entrypoint ?? [])],
          Cmd: spec.command.length ? spec.command : (image.Config?.Cmd ?? []),
          Volumes: { [SHIM_VOLUME]: {} },
          Env: envList(spec.env),
          WorkingDir: spec.workingDir || undefined,
          Tty: spec.tty,
          OpenStdin: spec.openStdin,
          StdinOnce: spec.openStdin,
          AttachStdin: spec.openStdin,
          AttachStdout: true,
          AttachStderr: true,
          User: spec.user || undefined,
          Labels: { ...spec.labels, ...managedLabels(spec.sessionId, this.config.EXEC_REPLICA_ID), [LABEL_RECORDER]: RECORDER_VERSION },
          HostConfig: {
            NetworkMode: this.config.EXEC_CONTAINER_NETWORK,
            Init: this.config.EXEC_CONTAINER_INIT,
            // Engines with API ≥ 1.42 size the tty before the process starts; older ones ignore it and
            // get the same size from a resize right after start (see ProcessInput.applyInitial).
            ...(spec.tty ? { ConsoleSize: [DEFAULT_TTY.height, DEFAULT_TTY.width] } : {}),
            LogConfig: logConfig(this.config),
            ...hostLimits(spec.limits, this.config),
          },
        }),
      { what: `container from image ${spec.image}`, cancel, onLate: (late) => void this.remove(late.id) },
    );
    const containerId = container.id;
    const log = this.log.child({ sessionId: spec.sessionId, containerId: containerId.slice(0, 12) });
    this.lifecycle.publish({ containerId, type: 'registered', status: 'created', sessionId: spec.sessionId });
    const short = containerId.slice(0, 12);
    let stream: Duplex | undefined;
    let output: Promise<void> | undefined;
    try {
      await this.call(`upload of the output recorder into container ${short}`, (abortSignal) =>
        container.putArchive(shimUpload(), { path: SHIM_VOLUME, abortSignal }),
      );
      // Attach and register the wait BEFORE start: output written at once and a fast exit code
      // would otherwise race the start.
      stream = (await this.call(
        `attach to container ${short}`,
        (abortSignal) => container.attach({ stream: true, stdout: true, stderr: true, stdin: spec.openStdin, hijack: true, abortSignal }),
        { cancel, onLate: (late) => (late as Duplex).destroy() },
      )) as Duplex;
      let exited!: ReturnType<DockerRuntime['waitNextExit']>;
      output = pumpOutput(stream, spec.tty, sink);
      await this.call(`wait on container ${short}`, (abortSignal) => (exited = this.waitNextExit(containerId, abortSignal)).registered, { cancel });
      await this.call(`start of container ${short}`, (abortSignal) => container.start({ abortSignal }), { what: `start of container ${short}`, cancel });
      this.lifecycle.publish({ containerId, type: 'started', status: 'running', sessionId: spec.sessionId });
      log.info({ image: spec.image, command: spec.command, tty: spec.tty }, 'container started');
      // Settles only once the output stream has too (nothing reaches the sink afterwards). A lost wait
      // (Docker went away) decides the error whatever the stream did: the session may re-adopt the
      // container from Docker's log, counting on exactly the bytes recorded by then.
      const attached = stream;
      const pumped = output;
      const outcome = exited.result.then(
        (exitCode) => pumped.then(() => exitCode),
        (err) => {
          attached.destroy();
          return pumped.then(
            () => Promise.reject(err),
            () => Promise.reject(err),
          );
        },
      );
      const done = outcome.then(async (exitCode) => {
        this.lifecycle.publish({ containerId, type: 'exited', status: 'exited', exitCode, sessionId: spec.sessionId });
        // Docker's wait does not say OOMKilled: its state does (asked only for a failed exit, before removal).
        const oomKilled = exitCode !== 0 && (await this.oomKilled(container, short, exitCode));
        log.info({ exitCode, oomKilled }, 'container exited');
        return { exitCode, oomKilled } satisfies ProcessOutcome;
      });
      return {
        containerId,
        done,
        stdin: spec.openStdin ? stream : undefined,
        resize: spec.tty
          ? (w, h) => this.call(`resize of container ${short}`, (abortSignal) => container.resize({ w, h, abortSignal })).then(() => undefined)
          : undefined,
      };
    } catch (err) {
      // The start failed: stop reading, and let the pump's end (which may now fail) go unobserved safely.
      output?.catch(() => undefined);
      stream?.destroy();
      // Removed either way; the caller waits for it unless Docker stopped answering or the client left.
      if (isGiveUp(err)) void this.removeAbandoned(containerId);
      else await this.remove(containerId);
      throw fromDockerError(err, `container ${short}`);
    }
  }

  async exec(spec: ExecSpec, sink: OutputSink, cancel?: AbortSignal): Promise<StartedProcess> {
    const container = this.docker.getContainer(spec.containerId);
    const info = await this.call(`inspect of container ${spec.containerId}`, (abortSignal) => container.inspect({ abortSignal }), {
      what: `container ${spec.containerId}`,
      cancel,
    });
    if (!isManaged(info.Config?.Labels, this.config.EXEC_REPLICA_ID)) {
      throw new ExecError('permission', `container ${spec.containerId} is not managed by this exec-stream instance (replica ${this.config.EXEC_REPLICA_ID})`);
    }
    if (!info.State?.Running || info.State?.Paused) {
      const state = info.State?.Paused ? 'paused' : (info.State?.Status ?? 'not running');
      throw new ExecError('precondition', `container ${spec.containerId} is ${state}; exec needs a running container`);
    }
    const containerId = info.Id;
    // In a container made with the output record, the exec's command runs under the shim too: its
    // output is recorded beside the run's, and it can be re-adopted after a restart.
    const recorded = info.Config?.Labels?.[LABEL_RECORDER] === RECORDER_VERSION;
    const exec = await this.call(
      `exec create in container ${spec.containerId}`,
      (abortSignal) =>
        container.exec({
          abortSignal,
          Cmd: recorded ? [...shimEntrypoint(spec.tty, this.config.EXEC_RECOVERY_RECORD_BYTES, execRecordDir(spec.sessionId)), ...spec.command] : spec.command,
          Env: envList(spec.env),
          WorkingDir: spec.workingDir || undefined,
          User: spec.user || undefined,
          Tty: spec.tty,
          AttachStdin: spec.openStdin,
          AttachStdout: true,
          AttachStderr: true,
        }),
      { what: `exec in container ${spec.containerId}`, cancel },
    );
    const startOptions = { hijack: true, stdin: spec.openStdin, Tty: spec.tty, ...(spec.tty ? { ConsoleSize: [DEFAULT_TTY.height, DEFAULT_TTY.width] } : {}) };
    const stream = await this.call<Duplex>(`exec start ${exec.id.slice(0, 12)}`, (abortSignal) => exec.start({ ...startOptions, abortSignal }), {
      what: `exec ${exec.id.slice(0, 12)}`,
      cancel,
      onLate: (late) => late.destroy(),
    });
    const log = this.log.child({ sessionId: spec.sessionId, containerId: containerId.slice(0, 12), execId: exec.id.slice(0, 12) });
    log.info({ command: spec.command, tty: spec.tty }, 'exec started');
    const done = pumpOutput(stream, spec.tty, sink).then(async () => {
      const exitCode = await this.execExitCode(exec);
      const byService = () => spec.killedByService?.() ?? false;
      const containerEnded = exitCode === 137 && !byService() && (await this.containerEnded(container, containerId.slice(0, 12), byService));
      log.info({ exitCode, ...(containerEnded && { containerEnded }) }, 'exec exited');
      return { exitCode, ...(containerEnded && { containerEnded }) } satisfies ProcessOutcome;
    });
    return {
      containerId,
      execId: exec.id,
      done,
      stdin: spec.openStdin ? stream : undefined,
      resize: spec.tty
        ? (w, h) => this.call(`resize of exec ${exec.id.slice(0, 12)}`, (abortSignal) => exec.resize({ w, h, abortSignal })).then(() => undefined)
        : undefined,
    };
  }

  async remove(containerId: string): Promise<void> {
    await this.tryRemove(containerId);
  }

  /** remove(); false when Docker did not answer it in time (the container may still be there). */
  private async tryRemove(containerId: string): Promise<boolean> {
    try {
      await this.call(`remove of container ${containerId.slice(0, 12)}`, (abortSignal) =>
        this.docker.getContainer(containerId).remove({ force: true, v: true, abortSignal }),
      );
      this.lifecycle.publish({ containerId, type: 'unregistered', status: 'removed' });
    } catch (err) {
      const e = err as { statusCode?: number };
      if (e.statusCode !== 404 && e.statusCode !== 409) {
        this.log.warn({ containerId, err: fromDockerError(err, 'remove').message }, 'could not remove container');
      }
      return !isGiveUp(err);
    }
    return true;
  }

  /**
   * Docker's State.OOMKilled of an exited container; false when it cannot be asked (gone, Docker away).
   * Docker records the kernel's OOM event apart from the exit, sometimes a moment after the wait
   * returned: a SIGKILL exit (137) is asked again a few times (at most ~175 ms in all).
   */
  private async oomKilled(container: Docker.Container, short: string, exitCode: number): Promise<boolean> {
    const info = await this.inspectUntil(container, short, (i) => !!i.State?.OOMKilled || exitCode !== 137, 100);
    return info !== 'gone' && !!info?.State?.OOMKilled;
  }

  /**
   * Whether an exec's SIGKILL (137), not sent by the service, came from its container's end: the kernel
   * kills every process left in a container when its main process ends, and Docker then shows it not
   * running (or it is gone, removed on exit); not when Docker saw an OOM kill (that one is the memory
   * limit's). Docker handles the main process's exit after the exec's, so a container still running is
   * asked again (at most ~1.6 s in all, spent only on an exec killed by something else while its
   * container runs on), until `stop` (the service began ending it meanwhile); false when Docker cannot
   * be asked.
   */
  private async containerEnded(container: Docker.Container, short: string, stop: () => boolean): Promise<boolean> {
    const info = await this.inspectUntil(container, short, (i) => !!i.State?.OOMKilled || !i.State?.Running, 800, stop);
    return info === 'gone' || (!!info && !info.State?.OOMKilled && !info.State?.Running);
  }

  /**
   * Inspects a container until `settled` holds for what Docker says, asking again after 25, 50, 100 …
   * ms, the last wait `lastWaitMs`, or until `stop`. 'gone' when Docker answers 404; undefined when it
   * cannot be asked; else the last answer, settled or not.
   */
  private async inspectUntil(
    container: Docker.Container,
    short: string,
    settled: (info: Docker.ContainerInspectInfo) => boolean,
    lastWaitMs: number,
    stop: () => boolean = () => false,
  ): Promise<Docker.ContainerInspectInfo | 'gone' | undefined> {
    for (let waitMs = 25; ; waitMs *= 2) {
      const info = await this.call(`inspect of container ${short}`, (abortSignal) => container.inspect({ abortSignal })).then(
        (i) => i,
        (err: { statusCode?: number } | undefined) => (err?.statusCode === 404 ? ('gone' as const) : undefined),
      );
      if (info === 'gone' || !info || settled(info) || waitMs > lastWaitMs || stop()) return info;
      await sleep(waitMs);
    }
  }

  /**
   * Removes the container of a set-up given up on (deadline or cancel). A hung engine may still start
   * it later, so a removal Docker does not answer is tried again, up to 10 times, a second apart.
   */
  private async removeAbandoned(containerId: string): Promise<void> {
    for (let attempt = 0; attempt < 10 && !(await this.tryRemove(containerId)); attempt++) {
      await sleep(1000, { unref: true });
    }
  }

  /**
   * POST /containers/{id}/wait?condition=next-exit as a stream: the callback fires when Docker sent the
   * response headers, which it does after registering the wait, so `registered` resolving means the
   * exit cannot be missed; `result` resolves with the exit code from the body.
   */
  private waitNextExit(containerId: string, abortSignal?: AbortSignal): { registered: Promise<void>; result: Promise<number> } {
    let onRegistered!: () => void;
    let onFailed!: (err: unknown) => void;
    const registered = new Promise<void>((resolve, reject) => {
      onRegistered = resolve;
      onFailed = reject;
    });
    const result = new Promise<number>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/containers/${containerId}/wait?`,
          method: 'POST',
          options: { condition: 'next-exit' },
          isStream: true,
          abortSignal,
          statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
        },
        (err: unknown, result: unknown) => {
          const res = result as NodeJS.ReadableStream;
          if (err) {
            onFailed(err);
            return reject(fromDockerError(err, `wait on container ${containerId.slice(0, 12)}`));
          }
          onRegistered();
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('error', (e) => reject(lostOutcome(containerId, e)));
          res.on('end', () => {
            try {
              const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as {
                StatusCode?: number;
                Error?: { Message?: string } | null;
              };
              if (typeof body.StatusCode !== 'number') throw new Error('no StatusCode');
              // Docker answers a wait it could not finish with StatusCode -1 and an Error: not an exit code.
              if (body.Error?.Message && body.StatusCode <= 0) throw new Error(body.Error.Message);
              if (body.Error?.Message) this.log.warn({ containerId, err: body.Error.Message }, 'wait reported an error');
              resolve(body.StatusCode);
            } catch (e) {
              reject(lostOutcome(containerId, e));
            }
          });
        },
      );
    });
    result.catch(() => undefined); // observed through `done`; avoid an unhandled rejection meanwhile
    return { registered, result };
  }

  /**
   * Exec exit codes appear in inspect once Running turns false, a moment after the stream ends; a
   * process that closed its stdout and stderr but runs on keeps Running true, so keep asking (slower
   * and slower) for as long as it does. Only an answer without a code after it stopped is ABORTED.
   */
  private async execExitCode(exec: Docker.Exec): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const info = await this.call(`inspect of exec ${exec.id.slice(0, 12)}`, (abortSignal) => exec.inspect({ abortSignal }), {
        what: `exec ${exec.id.slice(0, 12)}`,
      });
      if (!info.Running) {
        if (typeof info.ExitCode === 'number') return info.ExitCode;
        if (attempt > 20) throw new ExecError('aborted', `exec ${exec.id.slice(0, 12)}: it stopped but Docker reports no exit code`);
      }
      await sleep(attempt < 20 ? 5 : Math.min(1000, 50 * (attempt - 19)));
    }
  }
}

function envList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function lostOutcome(containerId: string, err: unknown): ExecError {
  return new ExecError(
    'unavailable',
    `lost the outcome of container ${containerId.slice(0, 12)}: Docker's wait ended without an exit code (${(err as Error)?.message ?? err})`,
  );
}
