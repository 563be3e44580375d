import { Inject, Injectable } from '@nestjs/common';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { quoted } from '../../common/request-ids';
import type { Logger } from '../../common/logger';
import { CONTAINER_CONTROL, CONTAINER_FILES, EXEC_CONFIG, RETAINED_CONTAINERS, ROOT_LOGGER } from '../../common/tokens';
import { ArchiveEndedEarlyError, type ContainerControl, type ContainerFiles, type ContainerPathStat } from '../../executor';
import { CopiesInFlight } from './copies-in-flight';
import { inspectUnambiguous, notManaged, requireContainerId, type RetainedContainers } from './container-lookup';

/** The most bytes of a CopyTo / CopyFrom path (Linux's PATH_MAX). */
export const COPY_PATH_MAX_BYTES = 4096;
/** The most components of a CopyTo / CopyFrom path once `.` and `..` are resolved: Docker follows fewer than 256 ("too many links"). */
export const COPY_PATH_MAX_COMPONENTS = 255;

/**
 * A CopyTo's tar on its way in, as copyTo takes it (the edge's TarIntake is one): the plain tar Docker
 * unpacks, and, once the copy failed, why and the entry Docker was left writing (when it was inside one).
 */
export interface IncomingTar {
  readonly tar: Readable;
  readonly failure?: ExecError;
  readonly partial?: { readonly name: string };
  /** Calls `fn` once, when the copy fails (at once when it already has). */
  onFailed(fn: () => void): void;
}

/**
 * CopyTo / CopyFrom on a managed container: the id is resolved like ContainerStatus's (unique prefix,
 * PERMISSION_DENIED for a container this instance does not manage), the path must be absolute, then
 * the tar streams go through the backend's archive API (CONTAINER_FILES) with backpressure. Each copy
 * is recorded in CopiesInFlight while Docker's request is open (it holds the container's lock).
 */
@Injectable()
export class ContainerFilesService {
  private readonly log: Logger;

  constructor(
    @Inject(CONTAINER_CONTROL) private readonly control: ContainerControl,
    @Inject(CONTAINER_FILES) private readonly files: ContainerFiles,
    @Inject(RETAINED_CONTAINERS) private readonly sessions: RetainedContainers,
    private readonly copies: CopiesInFlight,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'container-files' });
  }

  /** Checks the id and path before any byte is read: the full id of the managed container. */
  async resolve(containerId: string | undefined, path: string | undefined): Promise<{ id: string; path: string }> {
    const given = requireContainerId(containerId);
    const p = requirePath(path);
    const state = await inspectUnambiguous(this.control, this.sessions, given);
    if (!state.managed) throw notManaged(given);
    return { id: state.id, path: p };
  }

  /**
   * Unpacks `intake.tar` into the directory `path` of a container `resolve` returned; rejects with the
   * intake's failure when it failed. When it failed inside an entry, Docker has unpacked part of that
   * entry's file, which is then removed (rm in the container, as root): a failed copy leaves no partial
   * file (the whole entries before it stay). Docker, whose stream has ended, must answer within
   * EXEC_DOCKER_TIMEOUT_MS of the failure, or its request is abandoned.
   */
  async copyTo(id: string, path: string, intake: IncomingTar): Promise<void> {
    const done = this.copies.begin(id, 'CopyTo');
    const abandon = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    intake.onFailed(() => {
      timer = setTimeout(() => abandon.abort(), this.config.EXEC_DOCKER_TIMEOUT_MS);
      timer.unref();
    });
    let dockerFailure: Error | undefined;
    try {
      await this.files.putArchive(id, path, intake.tar, abandon.signal).catch((err: unknown) => {
        dockerFailure = err instanceof Error ? err : new ExecError('internal', String(err));
      });
    } finally {
      clearTimeout(timer);
      done();
    }
    if (!intake.failure) {
      if (dockerFailure) throw dockerFailure;
      return;
    }
    const partial = intake.partial && dockerFailure instanceof ArchiveEndedEarlyError ? partialPath(path, intake.partial.name) : undefined;
    if (!partial) throw intake.failure;
    const removed = await this.files.removeFile(id, partial).then(
      () => `; the part of ${partial} it had unpacked was removed`,
      (err: Error) => {
        this.log.warn({ containerId: id, path: partial, err: err.message }, 'a failed copy left a partial file that could not be removed');
        return `; the part of ${partial} it had unpacked could not be removed (${err.message})`;
      },
    );
    throw new ExecError(intake.failure.kind, intake.failure.message + removed);
  }

  /** `path` as a tar stream, with its stat; the copy is recorded in CopiesInFlight until the stream closes. */
  async getArchive(id: string, path: string, cancel?: AbortSignal): Promise<{ stat: ContainerPathStat; tar: Readable }> {
    const done = this.copies.begin(id, 'CopyFrom');
    try {
      const r = await this.files.getArchive(id, path, cancel);
      r.tar.once('close', done);
      return r;
    } catch (err) {
      done();
      throw err;
    }
  }
}

/** Where Docker put an entry named `name` under `dir` (as it cleans names), or undefined for a name it refuses (one leaving `dir`). */
export function partialPath(dir: string, name: string): string | undefined {
  const clean = posix.normalize(name).replace(/^\/+/, '').replace(/\/+$/, '');
  if (!clean || clean === '.' || clean === '..' || clean.startsWith('../')) return undefined;
  return posix.join(dir, clean);
}

/** An absolute path without NUL, at most COPY_PATH_MAX_BYTES and COPY_PATH_MAX_COMPONENTS; INVALID_ARGUMENT otherwise. */
export function requirePath(path: string | undefined): string {
  const invalid = (message: string) => new ExecError('invalid', message, { reason: 'FIELD_INVALID', field: 'path' });
  if (!path) throw invalid('path is required: an absolute path in the container');
  if (!path.startsWith('/')) throw invalid(`path ${quoted(path)} must be absolute (start with /)`);
  if (path.includes('\0')) throw invalid('path must not contain NUL bytes');
  if (Buffer.byteLength(path) > COPY_PATH_MAX_BYTES) throw invalid(`path must be at most ${COPY_PATH_MAX_BYTES} bytes`);
  if (path.split('/').some((c) => Buffer.byteLength(c) > 255)) throw invalid('path: each component must be at most 255 bytes');
  if (resolvedDepth(path) > COPY_PATH_MAX_COMPONENTS) {
    throw invalid(`path ${quoted(path)}: at most ${COPY_PATH_MAX_COMPONENTS} components once "." and ".." are resolved (Docker follows no more)`);
  }
  return path;
}

/** Components of an absolute path once `.` and `..` are resolved lexically, as Docker's filepath.Clean does. */
function resolvedDepth(path: string): number {
  let depth = 0;
  for (const c of path.split('/')) {
    if (c === '..') depth = Math.max(0, depth - 1);
    else if (c && c !== '.') depth++;
  }
  return depth;
}
