import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * proto/exec.proto, the wire contract: the package's own copy (packages/client/proto, written by its
 * build and shipped in the tarball) or, in the repository before a build, the repository's proto/.
 * Found by walking up from this file, so it works from src/ (ts), dist/ (built) and node_modules.
 */
export function execProtoPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'exec.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/exec.proto not found above ${__dirname}`);
}

/** One set of proto-loader options for server and client, so both see the shapes of gen/ (scripts/gen-types.sh). */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
} as const;
