/** When a run pulls its image: `never` (the engine must have it), `if_missing`, or `always`. */
export type PullPolicy = 'never' | 'if_missing' | 'always';
export const PULL_POLICIES: readonly PullPolicy[] = ['never', 'if_missing', 'always'];

/** Credentials for one registry, as Docker's X-Registry-Auth carries them. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** The registry (host[:port]) they are for. */
  serverAddress: string;
  identityToken?: string;
}

/** One progress line of a pull, as the engine reports it. */
export interface PullProgressLine {
  status: string;
  /** The layer the line is about, when it is about one. */
  layer?: string;
  current?: number;
  total?: number;
}

/**
 * Gets images from registries (IMAGE_PULLER; DockerImagePuller implements it). Failures are ExecErrors
 * naming the image and registry: NOT_FOUND (no such repository or tag), UNAUTHENTICATED (credentials
 * refused or missing), UNAVAILABLE (registry or engine unreachable).
 */
export interface ImagePuller {
  /** Whether the engine has `image` locally. */
  has(image: string): Promise<boolean>;
  /** Pulls `image` until the engine has it; `onProgress` sees each progress line; `cancel` abandons it (ABORTED). */
  pull(image: string, credentials: RegistryCredentials | undefined, onProgress: (line: PullProgressLine) => void, cancel?: AbortSignal): Promise<void>;
}

/** The registry host[:port] of an image reference (Docker's rule: a first component with '.', ':' or "localhost"). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}
