import { createHash } from 'node:crypto';

/**
 * The content the scenarios that check sha256 use: `yes LINE | head -c N` inside the container, where
 * LINE is 4092 pseudo-random letters (seeded) so one line plus its newline is 4093 bytes, a prime. The
 * stream is deterministic (the harness knows the expected sha256 without reading the container's
 * output twice) and fast for busybox (as fast as `head -c N /dev/zero` here), and because the period is
 * prime and unrelated to Docker's frame or gRPC message sizes, a lost, duplicated or reordered chunk
 * changes the hash. Different seeds give different streams (scenario 6: one per session).
 */
const LINE_CHARS = 4092;

export function yesLine(seed: number): string {
  let x = (seed * 2654435761 + 12345) >>> 0;
  let s = '';
  for (let i = 0; i < LINE_CHARS; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    s += String.fromCharCode(97 + ((x >>> 16) % 26));
  }
  return s;
}

/** argv for the container: writes exactly `bytes` bytes of the seed's pattern to stdout. */
export function yesCommand(seed: number, bytes: number): { line: string; command: string[] } {
  const line = yesLine(seed) + '\n';
  return { line, command: ['sh', '-c', 'yes "$0" | head -c "$1"', yesLine(seed), String(bytes)] };
}

const cache = new Map<string, string>();

export function expectedSha256(seed: number, bytes: number): string {
  const key = `${seed}:${bytes}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const line = Buffer.from(yesLine(seed) + '\n');
  const reps = Math.max(1, Math.floor((1 << 20) / line.length));
  const block = Buffer.concat(Array.from({ length: reps }, () => line));
  const h = createHash('sha256');
  let left = bytes;
  while (left >= block.length) {
    h.update(block);
    left -= block.length;
  }
  h.update(block.subarray(0, left));
  const hex = h.digest('hex');
  cache.set(key, hex);
  return hex;
}

/** `head -c N /dev/zero`: the throughput workload (one process, no pipe, nothing to compute). */
export function zeroCommand(bytes: number): string[] {
  return ['head', '-c', String(bytes), '/dev/zero'];
}
