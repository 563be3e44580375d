import { Inject, Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ExecConfig } from '../../common/config/exec-config';
import { ArchiveEndedEarlyError, type ContainerFiles, type ContainerPathStat } from '../container-files';
import { fromDockerError, withoutHttpCode } from './docker-errors';
import { dockerTimeNs } from './docker-time';
import { dockerCall, rethrowAs, type DockerCall } from './docker-call';
import { runHelper } from './docker-exec-signal';

/**
 * Docker's archive API (CONTAINER_FILES): PUT and GET /containers/{id}/archive. The upload is piped
 * into Docker's request (backpressure: the source is read only as fast as Docker takes it) and has no
 * deadline but `cancel`; the download's response has the EXEC_DOCKER_TIMEOUT_MS deadline, its body none.
 */
@Injectable()
export class DockerArchive implements ContainerFiles {
  private readonly log: Logger;
  private readonly call: DockerCall;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(EXEC_CONFIG) config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'docker-archive' });
    this.call = dockerCall(config);
  }

  async putArchive(containerId: string, path: string, tar: Readable, cancel?: AbortSignal): Promise<void> {
    if (cancel?.aborted) throw new ExecError('aborted', `copy to ${path} cancelled`, { reason: 'CLIENT_CANCELLED' });
    await this.docker
      .getContainer(containerId)
      .putArchive(tar, { path, abortSignal: cancel })
      .catch((err: unknown) => {
        if (cancel?.aborted)
          throw new ExecError('aborted', `copy to ${path} in container ${containerId.slice(0, 12)} cancelled`, { reason: 'CLIENT_CANCELLED' });
        throw archiveError(err, containerId, path);
      });
    this.log.debug({ containerId, path }, 'archive unpacked into container');
  }

  async getArchive(containerId: string, path: string, cancel?: AbortSignal): Promise<{ stat: ContainerPathStat; tar: Readable }> {
    const res = await this.call(
      `archive of ${path} in container ${containerId.slice(0, 12)}`,
      (abortSignal) => this.docker.getContainer(containerId).getArchive({ path, abortSignal }) as Promise<IncomingMessage>,
      { cancel, onLate: (late) => late.destroy() },
    ).catch((err: unknown) => {
      throw archiveError(err, containerId, path);
    });
    const header = res.headers['x-docker-container-path-stat'];
    return { stat: parsePathStat(typeof header === 'string' ? header : undefined, path), tar: res };
  }

  /** `rm -f -- path` as a helper exec, as root (Docker has no API to remove a container's file): needs `rm` in the image. */
  async removeFile(containerId: string, path: string): Promise<void> {
    const r = await runHelper(this.docker, containerId, ['rm', '-f', '--', path], this.call, '0').catch(
      rethrowAs(`removal of ${path} in container ${containerId.slice(0, 12)}`),
    );
    if (r.exitCode !== 0)
      throw new ExecError('precondition', `rm ${path} in container ${containerId.slice(0, 12)} exited ${r.exitCode}: ${r.output.trim().slice(0, 200)}`);
  }
}

/** Docker's X-Docker-Container-Path-Stat: base64 JSON {name, size, mode, mtime (RFC 3339), linkTarget}. */
export function parsePathStat(header: string | undefined, path: string): ContainerPathStat {
  const fallback = { name: path.slice(path.lastIndexOf('/') + 1), size: 0, mode: 0, mtimeNs: 0n, linkTarget: '' };
  if (!header) return fallback;
  try {
    const s = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as {
      name?: string;
      size?: number;
      mode?: number;
      mtime?: string;
      linkTarget?: string;
    };
    const mtimeNs = dockerTimeNs(s.mtime) ?? 0n;
    return { name: s.name ?? fallback.name, size: s.size ?? 0, mode: s.mode ?? 0, mtimeNs, linkTarget: s.linkTarget ?? '' };
  } catch {
    return fallback;
  }
}

/** A failed archive request: 404 is the path (the container was checked first), 400 a path Docker refuses. */
function archiveError(err: unknown, containerId: string, path: string): ExecError {
  const e = err as { statusCode?: number; message?: string };
  const words = withoutHttpCode(e?.message ?? '');
  const where = `${path} in container ${containerId.slice(0, 12)}`;
  const notFound = () =>
    new ExecError('not_found', `${where} not found: ${words}`, { reason: 'PATH_NOT_FOUND', resource: { type: 'path', name: path, owner: containerId } });
  if (e?.statusCode === 404) return notFound();
  if (e?.statusCode === 400 || e?.statusCode === 403) return new ExecError('invalid', `${where}: ${words}`, { reason: 'REJECTED_BY_DOCKER', field: 'path' });
  if (/marked read-only/i.test(words)) {
    return new ExecError(
      'precondition',
      `${where}: the container's root file system is read-only (read_only_rootfs), so Docker cannot write into it: ${words}`,
      { reason: 'READ_ONLY_ROOTFS', resource: { type: 'container', name: containerId } },
    );
  }
  if (e?.statusCode === 500 && /unexpected EOF/i.test(words)) {
    return new ArchiveEndedEarlyError(`${where}: the tar archive ends inside an entry: ${words}`);
  }
  if (e?.statusCode === 500 && /processing tar|archive\/tar|invalid tar header/i.test(words)) {
    return new ExecError('invalid', `${where}: the bytes are not a complete tar archive: ${words}`, { reason: 'FIELD_INVALID', field: 'tar' });
  }
  if (e?.statusCode === 500 && /not a directory|no such file|cannot overwrite|is a directory/i.test(words)) {
    return /no such file/i.test(words) ? notFound() : new ExecError('invalid', `${where}: ${words}`, { reason: 'REJECTED_BY_DOCKER', field: 'path' });
  }
  return fromDockerError(err, `archive ${where}`);
}
