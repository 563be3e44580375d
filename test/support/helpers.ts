import type { ServiceError } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The docker CLI, for arranging fixtures the service did not create (never to check its work for it). */
export function docker(...args: string[]): string {
  // Bounded: a wedged Docker engine fails the test that asked, not the whole run.
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 120_000 }).trim();
}

/**
 * docker() without blocking this process's event loop. Use it while a service hosted in this process
 * streams output: at a container's exit Docker holds the container's lock until its attach stream is
 * drained, so a synchronous `docker inspect` here (which waits for that lock) and the service (which
 * cannot read while this process waits) hold each other until the timeout.
 */
export async function dockerAsync(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('docker', args, { encoding: 'utf8', timeout: 120_000 });
  return stdout.trim();
}

/**
 * `docker create` / `docker run` options that make a fixture container look like one this service
 * created (network none, managed by the instance with this replica id).
 */
export function managedLabels(replicaId: string): string[] {
  return ['--network', 'none', '--label', 'exec-stream.managed=true', '--label', `exec-stream.replica=${replicaId}`];
}

/** Settles with the gRPC error a promise rejects with, failing if it resolves. */
export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    const v = await p;
    throw new Error(`expected a gRPC error, got ${JSON.stringify(v)}`);
  } catch (err) {
    if (typeof (err as ServiceError).code !== 'number') throw err;
    return err as ServiceError;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
