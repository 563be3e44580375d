import { Inject, Injectable } from '@nestjs/common';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { ExecConfig } from '../../common/config/exec-config';
import { readRegistryAuthFile, registryKey } from '../../common/config/registry-auth-file';
import { EXEC_CONFIG, IMAGE_PULLER, ROOT_LOGGER } from '../../common/tokens';
import { registryOf, type ImagePuller, type PullPolicy, type PullProgressLine, type RegistryCredentials } from '../../executor';

/** What a run asks of a pull: the policy and, optionally, its own credentials. */
export interface PullRequest {
  image: string;
  policy: PullPolicy;
  /** Per-request credentials; undefined = EXEC_REGISTRY_AUTH_FILE's for the image's registry, if any. */
  credentials?: Omit<RegistryCredentials, 'serverAddress'> & { serverAddress?: string };
}

/**
 * The pull step of a run, before its container is created: `never` does nothing (the run fails
 * NOT_FOUND naming the image when the engine lacks it), `if_missing` pulls only when the engine lacks
 * the image, `always` pulls every time. Progress goes to `onProgress` and the log (one line per layer
 * status change; byte counts at debug).
 */
@Injectable()
export class ImagePullService {
  private readonly log: Logger;

  constructor(
    @Inject(IMAGE_PULLER) private readonly puller: ImagePuller,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'image-pull' });
  }

  /** Resolves once the engine has the image as the policy requires; rejects with the pull's ExecError. */
  async prepare(req: PullRequest, onProgress: (line: PullProgressLine) => void, cancel?: AbortSignal, log: Logger = this.log): Promise<void> {
    if (req.policy === 'never') return;
    if (req.policy === 'if_missing' && (await this.puller.has(req.image))) return;
    const credentials = this.credentialsFor(req);
    const statuses = new Map<string, string>();
    await this.puller.pull(
      req.image,
      credentials,
      (line) => {
        const key = line.layer ?? '';
        if (statuses.get(key) !== line.status) {
          statuses.set(key, line.status);
          log.debug({ image: req.image, layer: line.layer, status: line.status }, 'pull progress');
        } else {
          log.trace({ image: req.image, layer: line.layer, status: line.status, current: line.current, total: line.total }, 'pull progress');
        }
        onProgress(line);
      },
      cancel,
    );
  }

  /** The request's own credentials, else the auth file's entry for the image's registry, else none. */
  private credentialsFor(req: PullRequest): RegistryCredentials | undefined {
    const registry = registryOf(req.image);
    if (req.credentials) return { ...req.credentials, serverAddress: req.credentials.serverAddress || registry };
    const file = this.config.EXEC_REGISTRY_AUTH_FILE;
    if (!file) return undefined;
    let logins;
    try {
      logins = readRegistryAuthFile(file);
    } catch (err) {
      throw new ExecError('unavailable', `registry credentials for ${registry} unreadable (EXEC_REGISTRY_AUTH_FILE): ${(err as Error).message}`);
    }
    const login = logins.get(registryKey(registry));
    return login ? { ...login, serverAddress: registry } : undefined;
  }
}
