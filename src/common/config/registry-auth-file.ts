import { readFileSync } from 'node:fs';
import { problemsOf } from './config-problems';

/** One registry's credentials from a Docker config.json's "auths". */
export interface RegistryLogin {
  username?: string;
  password?: string;
  identityToken?: string;
}

/** A registry key of "auths" as a plain host[:port] ("https://index.docker.io/v1/" → "docker.io"). */
export function registryKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * Parses a Docker config.json (the file `docker login` writes, mounted as a Secret): its "auths" map of
 * registry → {"auth": base64("user:password")} or {"username","password"} or {"identitytoken"}. Other
 * keys (credsStore, credHelpers) are ignored. Throws an Error naming the entry; never echoes a secret.
 */
export function parseRegistryAuthFile(text: string): Map<string, RegistryLogin> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`, { cause: err });
  }
  const auths = (data as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw new Error('must be a Docker config.json with an "auths" object');
  const logins = new Map<string, RegistryLogin>();
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    const v = (value ?? {}) as { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown };
    const login: RegistryLogin = {};
    if (typeof v.auth === 'string' && v.auth) {
      const decoded = Buffer.from(v.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1) throw new Error(`auths["${key}"].auth must be base64 of "username:password"`);
      login.username = decoded.slice(0, colon);
      login.password = decoded.slice(colon + 1);
    } else if (typeof v.username === 'string' && typeof v.password === 'string') {
      login.username = v.username;
      login.password = v.password;
    }
    if (typeof v.identitytoken === 'string' && v.identitytoken) login.identityToken = v.identitytoken;
    if (!login.username && !login.identityToken) throw new Error(`auths["${key}"] has no "auth", "username"/"password" or "identitytoken"`);
    logins.set(registryKey(key), login);
  }
  return logins;
}

/** Reads and parses the file at `path` (parseRegistryAuthFile); errors name the file. */
export function readRegistryAuthFile(path: string): Map<string, RegistryLogin> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return parseRegistryAuthFile(text);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** EXEC_REGISTRY_AUTH_FILE's problems at start-up (unreadable, not a config.json), as loadConfig lists them. */
export function registryAuthFileProblems(config: { EXEC_REGISTRY_AUTH_FILE?: string }): string[] {
  const file = config.EXEC_REGISTRY_AUTH_FILE;
  return file ? problemsOf(() => readRegistryAuthFile(file), `EXEC_REGISTRY_AUTH_FILE=${JSON.stringify(file)}: `) : [];
}
