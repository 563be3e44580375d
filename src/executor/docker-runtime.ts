import { Inject, Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { ExecError } from '../common/errors';
import type { Logger } from '../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, ROOT_LOGGER } from '../common/tokens';
import type { ExecConfig } from '../common/config/exec-config';
import { LifecycleBus } from '../lifecycle/lifecycle-bus';
import type {
  ContainerRuntime,
  ExecSpec,
  OutputSink,
  ProcessOutcome,
  ProcessSpec,
  ReadoptSpec,
  RunSpec,
  StartedProcess,
} from './container-runtime';
import { DEFAULT_TTY } from './container-runtime';
import { fromDockerError } from './docker-errors';
import { pumpOutput } from './output-pump';
import { isManaged, managedLabels } from './labels';
import { DockerRecovery } from './docker-recovery';

/** The only place that talks to Docker. Every call maps its failure to an ExecError. */
@Injectable()
export class DockerRuntime implements ContainerRuntime {
  private readonly log: Logger;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly lifecycle: LifecycleBus,
  ) {
        this.log = root.child({ component: 'docker' });
    this.recovery = new DockerRecovery(this.docker, this.log);
  }

  // Restart recovery lives in docker-recovery.ts; these delegate to it.
  private readonly recovery: DockerRecovery;
  listManaged = () => this.recovery.listManaged();
  readopt = (spec: ReadoptSpec, sink: OutputSink) => this.recovery.readopt(spec, sink);
  execState = (execId: string) => this.recovery.execState(execId);

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw fromDockerError(err, 'ping');
    }
  }

  async run(spec: RunSpec, sink: OutputSink): Promise<StartedProcess> {
    const image = await this.docker
      .getImage(spec.image)
      .inspect()
      .catch((err) => {
        throw fromDockerError(err, `image ${spec.image} (images are not pulled: build or import it first)`);
      });
    if (!spec.command.length && !image.Config?.Cmd?.length && !image.Config?.Entrypoint?.length) {
      throw new ExecError('invalid', `image ${spec.image} has no default command: give Start.command`);
    }
    const container = await this.docker
      .createContainer({
        Image: spec.image,
        Cmd: spec.command.length ? spec.command : undefined,
        Env: envList(spec.env),
        WorkingDir: spec.workingDir || undefined,
        Tty: spec.tty,
        OpenStdin: spec.openStdin,
        StdinOnce: spec.openStdin,
        AttachStdin: spec.openStdin,
        AttachStdout: true,
        AttachStderr: true,
        Labels: managedLabels(spec.sessionId),
        HostConfig: {
          NetworkMode: this.config.EXEC_CONTAINER_NETWORK,
          Init: this.config.EXEC_CONTAINER_INIT === 'true',
          // Engines with API ≥ 1.42 size the tty before the process starts; older ones ignore it and
          // get the same size from a resize right after start (see ProcessInput.applyInitial).
          ...(spec.tty ? { ConsoleSize: [DEFAULT_TTY.height, DEFAULT_TTY.width] } : {}),
          LogConfig: { Type: this.config.EXEC_CONTAINER_LOG_DRIVER, Config: {} },
        },
      })
      .catch((err) => {
        throw fromDockerError(err, `container from image ${spec.image}`);
      });
    const containerId = container.id;
    const log = this.log.child({ sessionId: spec.sessionId, containerId: containerId.slice(0, 12) });
    this.lifecycle.publish({ containerId, type: 'registered', status: 'created', sessionId: spec.sessionId });
    let stream: Duplex | undefined;
    let output: Promise<void> | undefined;
    try {
      // Attach and register the wait BEFORE start: output written at once and a fast exit code
      // would otherwise race the start.
      stream = (await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        stdin: spec.openStdin,
        hijack: true,
      })) as Duplex;
      const exited = this.waitNextExit(containerId);
      output = pumpOutput(stream, spec.tty, sink);
      await exited.registered;
      await container.start().catch((err) => {
        throw fromDockerError(err, `start of container ${containerId.slice(0, 12)}`);
      });
      this.lifecycle.publish({ containerId, type: 'started', status: 'running', sessionId: spec.sessionId });
      log.info({ image: spec.image, command: spec.command, tty: spec.tty }, 'container started');
      const done = Promise.all([exited.result, output]).then(([exitCode]) => {
        this.lifecycle.publish({ containerId, type: 'exited', status: 'exited', exitCode, sessionId: spec.sessionId });
        log.info({ exitCode }, 'container exited');
        return { exitCode } satisfies ProcessOutcome;
      });
      return {
        containerId,
        done,
        stdin: spec.openStdin ? stream : undefined,
        resize: spec.tty ? (w, h) => container.resize({ w, h }).then(() => undefined) : undefined,
      };
    } catch (err) {
      // The start failed: stop reading, and let the pump's end (which may now fail) go unobserved safely.
      output?.catch(() => undefined);
      stream?.destroy();
      await this.remove(containerId);
      throw fromDockerError(err, `container ${containerId.slice(0, 12)}`);
    }
  }

  async exec(spec: ExecSpec, sink: OutputSink): Promise<StartedProcess> {
    const container = this.docker.getContainer(spec.containerId);
    const info = await container.inspect().catch((err) => {
      throw fromDockerError(err, `container ${spec.containerId}`);
    });
    if (!isManaged(info.Config?.Labels)) {
      throw new ExecError('permission', `container ${spec.containerId} is not managed by exec-stream`);
    }
    if (!info.State?.Running || info.State?.Paused) {
      const state = info.State?.Paused ? 'paused' : (info.State?.Status ?? 'not running');
      throw new ExecError('precondition', `container ${spec.containerId} is ${state}; exec needs a running container`);
    }
    const containerId = info.Id;
    const exec = await container
      .exec({
        Cmd: spec.command,
        Env: envList(spec.env),
        WorkingDir: spec.workingDir || undefined,
        Tty: spec.tty,
        AttachStdin: spec.openStdin,
        AttachStdout: true,
        AttachStderr: true,
      })
      .catch((err) => {
        throw fromDockerError(err, `exec in container ${spec.containerId}`);
      });
    const stream = (await exec.start({ hijack: true, stdin: spec.openStdin, Tty: spec.tty, ...(spec.tty ? { ConsoleSize: [DEFAULT_TTY.height, DEFAULT_TTY.width] } : {}) } as Docker.ExecStartOptions).catch((err) => {
      throw fromDockerError(err, `exec ${exec.id.slice(0, 12)}`);
    })) as Duplex;
    const log = this.log.child({ sessionId: spec.sessionId, containerId: containerId.slice(0, 12), execId: exec.id.slice(0, 12) });
    log.info({ command: spec.command, tty: spec.tty }, 'exec started');
    const done = pumpOutput(stream, spec.tty, sink).then(async () => {
      const exitCode = await this.execExitCode(exec);
      log.info({ exitCode }, 'exec exited');
      return { exitCode } satisfies ProcessOutcome;
    });
    return {
      containerId,
      execId: exec.id,
      done,
      stdin: spec.openStdin ? stream : undefined,
      resize: spec.tty ? (w, h) => exec.resize({ w, h }).then(() => undefined) : undefined,
    };
  }

  async remove(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).remove({ force: true, v: true });
      this.lifecycle.publish({ containerId, type: 'unregistered', status: 'removed' });
    } catch (err) {
      const e = err as { statusCode?: number };
      if (e.statusCode !== 404 && e.statusCode !== 409) {
        this.log.warn({ containerId, err: fromDockerError(err, 'remove').message }, 'could not remove container');
      }
    }
  }

  /**
   * POST /containers/{id}/wait?condition=next-exit as a stream: the callback fires when Docker sent the
   * response headers, which it does after registering the wait, so `registered` resolving means the
   * exit cannot be missed; `result` resolves with the exit code from the body.
   */
  private waitNextExit(containerId: string): { registered: Promise<void>; result: Promise<number> } {
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
      const info = await exec.inspect().catch((err) => {
        throw fromDockerError(err, `exec ${exec.id.slice(0, 12)}`);
      });
      if (!info.Running) {
        if (typeof info.ExitCode === 'number') return info.ExitCode;
        if (attempt > 20) throw new ExecError('aborted', `exec ${exec.id.slice(0, 12)}: it stopped but Docker reports no exit code`);
      }
      await new Promise((r) => setTimeout(r, attempt < 20 ? 5 : Math.min(1000, 50 * (attempt - 19))));
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

export type { ProcessSpec };
