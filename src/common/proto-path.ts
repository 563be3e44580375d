import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A file of proto/ in the package root, whether running from src/ (ts) or dist/src/ (built). */
function protoDirFile(name: string): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/${name} not found above ${__dirname}`);
}

/** proto/exec.proto: the wire contract. */
export function execProtoPath(): string {
  return protoDirFile('exec.proto');
}

/** proto/descriptor-set.binpb: exec.proto and health.proto compiled by buf (scripts/proto-descriptors.sh), for reflection. */
export function descriptorSetPath(): string {
  return protoDirFile('descriptor-set.binpb');
}

/** One set of proto-loader options for server and client, so both see the same shapes. */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
} as const;
