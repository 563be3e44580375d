import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

export type LogDriver = 'default' | 'none' | 'local' | 'json-file';

export interface CliRun {
  wallMs: number;
  /** spawn → first stdout byte */
  firstByteMs: number;
  bytes: number;
  sha256?: string;
  exitCode: number | null;
  stderr: string;
  /** stdout as text, with `text: true` */
  text?: string;
}

export interface CliRunOptions {
  hash?: boolean;
  text?: boolean;
  onData?: (b: Buffer, atMs: number) => void;
}

/** `docker run --rm --network none [--log-driver X] IMAGE CMD…` with stdout read by this process. */
export function dockerRun(image: string, command: string[], logDriver: LogDriver, opts: CliRunOptions = {}): Promise<CliRun> {
  const args = ['run', '--rm', '--network', 'none'];
  if (logDriver !== 'default') args.push('--log-driver', logDriver);
  args.push(image, ...command);
  return runCli('docker', args, opts);
}

export function runCli(cmd: string, args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = opts.hash ? createHash('sha256') : undefined;
    let bytes = 0;
    let firstByteMs = NaN;
    let stderr = '';
    let text = '';
    child.stdout.on('data', (b: Buffer) => {
      const now = performance.now();
      if (!bytes) firstByteMs = now - t0;
      bytes += b.length;
      h?.update(b);
      if (opts.text) text += b.toString();
      opts.onData?.(b, now);
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ wallMs: performance.now() - t0, firstByteMs, bytes, sha256: h?.digest('hex'), exitCode: code, stderr, text: opts.text ? text : undefined });
    });
  });
}

export function dockerSync(args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Container run time from Docker's own record (State.StartedAt → State.FinishedAt), in ms. */
export function containerWallMs(containerId: string): number {
  const [started, finished] = dockerSync(['inspect', '-f', '{{.State.StartedAt}} {{.State.FinishedAt}}', containerId]).split(' ');
  return isoNs(finished) - isoNs(started);
}

/** RFC 3339 with nanoseconds → ms since epoch, keeping the sub-ms digits. */
function isoNs(s: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) throw new Error(`bad timestamp ${s}`);
  const frac = (m[2] ?? '0').padEnd(9, '0');
  return Date.parse(m[1] + m[3]) + Number(frac) / 1e6;
}

export function removeContainers(ids: string[]): void {
  const live = ids.filter(Boolean);
  if (live.length) spawnSync('docker', ['rm', '-f', ...live], { stdio: 'ignore' });
}
