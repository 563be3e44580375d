import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** proto/descriptor-set.binpb: exec.proto and health.proto compiled by buf (scripts/proto-descriptors.sh), for reflection. */
export function descriptorSetPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'descriptor-set.binpb');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/descriptor-set.binpb not found above ${__dirname}`);
}
