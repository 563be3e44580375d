import type { Readable } from 'node:stream';
import { ExecError } from '../common/errors';

/** A path's stat in a container, from the engine (Docker's X-Docker-Container-Path-Stat). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits (type bits above the permission bits), as the engine gives them. */
  mode: number;
  /** Unix ns. */
  mtimeNs: bigint;
  linkTarget: string;
}

/**
 * putArchive's failure when the tar stream ended inside an entry (INVALID_ARGUMENT): the engine has
 * unpacked everything it was given, the last entry only in part.
 */
export class ArchiveEndedEarlyError extends ExecError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/**
 * Files in and out of a container as tar streams (CONTAINER_FILES; DockerArchive implements it). Both
 * directions stream with backpressure: nothing is held beyond the streams' own buffers. Failures are
 * ExecErrors: a missing path NOT_FOUND, a path the engine refuses INVALID_ARGUMENT.
 */
export interface ContainerFiles {
  /** Unpacks the tar read from `tar` into the directory `path`; resolves once the engine has all of it. */
  putArchive(containerId: string, path: string, tar: Readable, cancel?: AbortSignal): Promise<void>;
  /** `path` as a tar stream, with its stat; destroying the stream abandons the transfer. */
  getArchive(containerId: string, path: string, cancel?: AbortSignal): Promise<{ stat: ContainerPathStat; tar: Readable }>;
  /** Removes the file `path` in the running container, as root (a file a failed copy left part-written). */
  removeFile(containerId: string, path: string): Promise<void>;
}
