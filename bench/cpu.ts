import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (user + system, all threads) from /proc, in seconds: far steadier than wall time on a
 * shared machine. The server and dockerd are read by pid; this process by process.cpuUsage(); the
 * docker CLI children through this process's cutime + cstime, which the kernel adds when a child is
 * reaped (so a delta around one `docker run` is that CLI's CPU, once it has exited).
 */
let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticks = Number(r.stdout?.trim()) || 100;
  }
  return ticks;
}

/** Fields of /proc/<pid>/stat after the command name (which may contain spaces): index 0 = state. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (NaN when it is gone or unknown). */
export function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  const f = statFields(pid);
  // stat fields 14, 15 (1-based) = utime, stime; after the comm they are at 11, 12.
  return f ? (Number(f[11]) + Number(f[12])) / clockTicks() : NaN;
}

/** cutime + cstime of this process: the CPU of every child it has reaped. */
export function reapedChildrenCpuSeconds(): number {
  const f = statFields('self');
  return f ? (Number(f[13]) + Number(f[14])) / clockTicks() : NaN;
}

export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * The dockerd that serves this bench's Docker socket: the one whose command line names the socket of
 * DOCKER_HOST, else one with no -H (the default socket); undefined when none can be read.
 */
export function dockerdPid(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const found: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'dockerd') continue;
      found.push({ pid: Number(d), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  const host = env.DOCKER_HOST;
  const sock = host?.startsWith('unix://') ? host.slice(7) : undefined;
  if (sock && sock !== '/var/run/docker.sock') return found.find((p) => p.cmd.includes(sock))?.pid;
  return (found.find((p) => !/\s(-H|--host)[\s=]/.test(p.cmd) || p.cmd.includes('/var/run/docker.sock')) ?? found[0])?.pid;
}

export interface CpuSample {
  server: number;
  bench: number;
  children: number;
  dockerd: number;
}

/** Takes CPU readings of the server, this process, its reaped children and dockerd; `since` gives deltas. */
export class CpuMeter {
  private readonly dockerd = dockerdPid();
  constructor(private readonly serverPid: number) {}

  read(): CpuSample {
    return { server: procCpuSeconds(this.serverPid), bench: selfCpuSeconds(), children: reapedChildrenCpuSeconds(), dockerd: procCpuSeconds(this.dockerd) };
  }

  /** Starts a measurement; the returned function gives the CPU-seconds spent since, per process. */
  start(): () => CpuSample {
    const a = this.read();
    return () => {
      const b = this.read();
      return { server: b.server - a.server, bench: b.bench - a.bench, children: b.children - a.children, dockerd: b.dockerd - a.dockerd };
    };
  }
}

/** CPU-seconds per GiB moved. */
export const perGiB = (seconds: number, bytes: number): number => seconds / (bytes / 1024 ** 3);
