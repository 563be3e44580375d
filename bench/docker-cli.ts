import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

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

/** The container's cgroup CPU counter (cgroup v1 cpuacct or v2 cpu.stat), in seconds; undefined once the cgroup is gone. */
export function containerCpuSeconds(containerId: string): number | undefined {
  for (const [file, parse] of [
    [`/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`, (t: string) => Number(t) / 1e9],
    [`/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`, (t: string) => Number(/^usage_usec (\d+)/m.exec(t)?.[1]) / 1e6],
    [`/sys/fs/cgroup/docker/${containerId}/cpu.stat`, (t: string) => Number(/^usage_usec (\d+)/m.exec(t)?.[1]) / 1e6],
  ] as const) {
    try {
      const v = parse(readFileSync(file, 'utf8'));
      if (Number.isFinite(v)) return v;
    } catch {
      // not this layout, or the container has stopped (Docker removes its cgroup)
    }
  }
  return undefined;
}

/**
 * CPU-seconds a container's processes spend (its cgroup's counter), sampled every 20 ms until stop():
 * Docker removes the cgroup when the container stops, so the last sample can miss its last ≤ 20 ms.
 * `id()` gives the full container id once known (a `docker run --cidfile` writes it after create).
 */
export function watchContainerCpu(id: () => string | undefined): { stop(): number } {
  let last: number | undefined;
  const sample = () => {
    const cid = id();
    const v = cid ? containerCpuSeconds(cid) : undefined;
    if (v !== undefined) last = v;
  };
  sample();
  const timer = setInterval(sample, 20);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return last === undefined ? NaN : last;
    },
  };
}
