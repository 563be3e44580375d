import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** proto/exec.proto from the package root, whether running from src/ (ts) or dist/src/ (built). */
export function execProtoPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'exec.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/exec.proto not found above ${__dirname}`);
}

/** One set of proto-loader options for server and client, so both see the same shapes. */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
} as const;
