import type { Readable } from 'node:stream';

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
 * Files in and out of a container as tar streams (CONTAINER_FILES; DockerArchive implements it). Both
 * directions stream with backpressure: nothing is held beyond the streams' own buffers. Failures are
 * ExecErrors: a missing path NOT_FOUND, a path the engine refuses INVALID_ARGUMENT.
 */
export interface ContainerFiles {
  /** Unpacks the tar read from `tar` into the directory `path`; resolves once the engine has all of it. */
  putArchive(containerId: string, path: string, tar: Readable, cancel?: AbortSignal): Promise<void>;
  /** `path` as a tar stream, with its stat; destroying the stream abandons the transfer. */
  getArchive(containerId: string, path: string, cancel?: AbortSignal): Promise<{ stat: ContainerPathStat; tar: Readable }>;
}
