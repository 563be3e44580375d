import { Inject, Injectable } from '@nestjs/common';
import Docker from 'dockerode';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ExecConfig } from '../../common/config/exec-config';
import { registryOf, type ImagePuller, type PullProgressLine, type RegistryCredentials } from '../image-puller';
import { dockerMessage, fromDockerError, HTTP_CODE, withoutHttpCode } from './docker-errors';
import { dockerCall, type DockerCall } from './docker-call';
import { JsonLines } from './json-lines';

interface PullLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Pulls images through Docker's /images/create (IMAGE_PULLER). Opening the pull has the
 * EXEC_DOCKER_TIMEOUT_MS deadline; the download itself has none but `cancel`. Docker reports a
 * registry's refusal as HTTP 500 or as an error line in the stream, so the failure is classified by
 * Docker's words (classifyPullError) into NOT_FOUND, UNAUTHENTICATED or UNAVAILABLE.
 */
@Injectable()
export class DockerImagePuller implements ImagePuller {
  private readonly log: Logger;
  private readonly call: DockerCall;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(EXEC_CONFIG) config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'docker-pull' });
    this.call = dockerCall(config);
  }

  async has(image: string): Promise<boolean> {
    try {
      await this.call(`inspect of image ${image}`, () => this.docker.getImage(image).inspect());
      return true;
    } catch (err) {
      const e = fromDockerError(err, `image ${image}`);
      if (e.kind === 'not_found') return false;
      throw e;
    }
  }

  async pull(image: string, credentials: RegistryCredentials | undefined, onProgress: (line: PullProgressLine) => void, cancel?: AbortSignal): Promise<void> {
    const registry = registryOf(image);
    const what = `pull of image ${image} from registry ${registry}`;
    const authconfig = credentials
      ? {
          username: credentials.username || undefined,
          password: credentials.password || undefined,
          serveraddress: credentials.serverAddress,
          identitytoken: credentials.identityToken || undefined,
        }
      : undefined;
    type PullStream = NodeJS.ReadableStream & { destroy(err?: Error): void };
    const stream = await this.call(what, (abortSignal) => this.docker.pull(image, { authconfig, abortSignal }) as Promise<PullStream>, {
      cancel,
      onLate: (late) => late.destroy(),
    }).catch((err) => {
      throw err instanceof ExecError
        ? err
        : classifyPullError(streamErrorWords(err), what, (err as { statusCode?: number }).statusCode, err, { image, registry });
    });
    this.log.info({ image, registry, authenticated: !!credentials }, 'image pull started');
    await new Promise<void>((resolve, reject) => {
      let failure: ExecError | undefined;
      const onCancel = () => {
        failure = new ExecError('aborted', `${what} cancelled`, { reason: 'CLIENT_CANCELLED' });
        stream.destroy();
        reject(failure);
      };
      if (cancel?.aborted) return onCancel();
      cancel?.addEventListener('abort', onCancel, { once: true });
      const parser = new JsonLines((value) => {
        const line = value as PullLine;
        if (line.error || line.errorDetail?.message) {
          failure ??= classifyPullError(line.errorDetail?.message ?? line.error ?? 'pull failed', what, undefined, undefined, { image, registry });
          return;
        }
        if (!line.status) return;
        onProgress({ status: line.status, layer: line.id, current: line.progressDetail?.current, total: line.progressDetail?.total });
      });
      stream.on('data', (b: Buffer) => parser.push(b));
      stream.on('error', (err: Error) => {
        cancel?.removeEventListener('abort', onCancel);
        reject(failure ?? classifyPullError(err.message, what, undefined, err, { image, registry }));
      });
      stream.on('end', () => {
        cancel?.removeEventListener('abort', onCancel);
        if (failure) return reject(failure);
        resolve();
      });
    });
    this.log.info({ image, registry }, 'image pulled');
  }
}

/** Docker's words of a failed streaming request: its message without dockerode's prefix, else dockerMessage. */
function streamErrorWords(err: unknown): string {
  const m = (err as { message?: string } | undefined)?.message;
  return m && HTTP_CODE.test(m) ? withoutHttpCode(m) : dockerMessage(err);
}

/**
 * Docker's words for a failed pull → NOT_FOUND (no such repository, tag or manifest), UNAUTHENTICATED
 * (credentials missing or refused), UNAVAILABLE (registry or engine unreachable, or anything else).
 */
export function classifyPullError(
  message: string,
  what: string,
  statusCode?: number,
  err?: unknown,
  about: { image?: string; registry?: string } = {},
): ExecError {
  const m = message.trim();
  const resource = about.image ? { resource: { type: 'image' as const, name: about.image } } : {};
  const metadata = about.registry ? { metadata: { registry: about.registry } } : {};
  if (/unauthori[sz]ed|authentication required|no basic auth credentials|denied|incorrect username or password|401/i.test(m)) {
    return new ExecError('unauthenticated', `${what}: the registry refused the credentials (or none were given): ${m}`, {
      reason: 'REGISTRY_AUTH_FAILED',
      ...resource,
      ...metadata,
    });
  }
  if (/not found|manifest unknown|does not exist|name unknown|no such image/i.test(m) || statusCode === 404) {
    return new ExecError('not_found', `${what}: not found: ${m}`, { reason: 'IMAGE_NOT_FOUND', ...resource, ...metadata });
  }
  if (/invalid reference|invalid tag|repository name must/i.test(m) || statusCode === 400) {
    return new ExecError('invalid', `${what}: ${m}`, { reason: 'REJECTED_BY_DOCKER', ...metadata });
  }
  if (err !== undefined && statusCode === undefined) {
    const e = fromDockerError(err, what);
    if (e.kind !== 'unavailable') return e;
  }
  return new ExecError('unavailable', `${what}: registry or Docker engine unavailable: ${m}`, { reason: 'REGISTRY_UNAVAILABLE', ...resource, ...metadata });
}
