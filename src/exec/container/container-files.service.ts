import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { ExecError } from '../../common/errors';
import { CONTAINER_CONTROL, CONTAINER_FILES } from '../../common/tokens';
import type { ContainerControl, ContainerFiles, ContainerPathStat } from '../../executor';
import { SessionManager } from '../session';
import { inspectUnambiguous, notManaged, requireContainerId } from './container-status.service';

/** The most bytes of a CopyTo / CopyFrom path (Linux's PATH_MAX). */
export const COPY_PATH_MAX_BYTES = 4096;

/**
 * CopyTo / CopyFrom on a managed container: the id is resolved like ContainerStatus's (unique prefix,
 * PERMISSION_DENIED for a container this instance does not manage), the path must be absolute, then
 * the tar streams go through the backend's archive API (CONTAINER_FILES) with backpressure.
 */
@Injectable()
export class ContainerFilesService {
  constructor(
    @Inject(CONTAINER_CONTROL) private readonly control: ContainerControl,
    @Inject(CONTAINER_FILES) private readonly files: ContainerFiles,
    private readonly sessions: SessionManager,
  ) {}

  /** Checks the id and path before any byte is read: the full id of the managed container. */
  async resolve(containerId: string | undefined, path: string | undefined): Promise<{ id: string; path: string }> {
    const given = requireContainerId(containerId);
    const p = requirePath(path);
    const state = await inspectUnambiguous(this.control, this.sessions, given);
    if (!state.managed) throw notManaged(given);
    return { id: state.id, path: p };
  }

  /** Unpacks `tar` into the directory `path` of a container `resolve` returned. */
  putArchive(id: string, path: string, tar: Readable, cancel?: AbortSignal): Promise<void> {
    return this.files.putArchive(id, path, tar, cancel);
  }

  getArchive(id: string, path: string, cancel?: AbortSignal): Promise<{ stat: ContainerPathStat; tar: Readable }> {
    return this.files.getArchive(id, path, cancel);
  }
}

/** An absolute path without NUL, at most COPY_PATH_MAX_BYTES; INVALID_ARGUMENT otherwise. */
export function requirePath(path: string | undefined): string {
  const invalid = (message: string) => new ExecError('invalid', message, { reason: 'FIELD_INVALID', field: 'path' });
  if (!path) throw invalid('path is required: an absolute path in the container');
  if (!path.startsWith('/')) throw invalid(`path ${JSON.stringify(path.slice(0, 200))} must be absolute (start with /)`);
  if (path.includes('\0')) throw invalid('path must not contain NUL bytes');
  if (Buffer.byteLength(path) > COPY_PATH_MAX_BYTES) throw invalid(`path must be at most ${COPY_PATH_MAX_BYTES} bytes`);
  if (path.split('/').some((c) => Buffer.byteLength(c) > 255)) throw invalid('path: each component must be at most 255 bytes');
  return path;
}
