import { createHash } from 'node:crypto';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { fmtBytes } from './config';
import { CpuMeter, type CpuSample } from './cpu';
import { containerWallMs, removeContainers, runCli, type LogDriver } from './docker-cli';
import { alternate, drain, errText, Scenario, sleep, type BenchContext, type ScenarioResult } from './scenarios';

/**
 * The workloads of scenario 11: output as most real commands write it, a line at a time. `yes | head`
 * writes many short lines per write (Docker's log drivers still make one message per line); the shell
 * loop makes one write per line (each a separate read for whoever reads the pipe).
 */
interface Workload {
  key: string;
  label: string;
  command: string[];
  bytes: number;
  sha256: string;
}

function yesWorkload(lineBytes: number, total: number): Workload {
  const text = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(lineBytes / 36)).slice(0, lineBytes - 1);
  const line = Buffer.from(`${text}\n`);
  const all = Buffer.alloc(total);
  for (let at = 0; at < total; at += line.length) line.copy(all, at, 0, Math.min(line.length, total - at));
  return {
    key: `yes${lineBytes}`,
    label: `${lineBytes}-byte lines (yes | head)`,
    command: ['sh', '-c', `yes ${text} | head -c ${total}`],
    bytes: total,
    sha256: createHash('sha256').update(all).digest('hex'),
  };
}

function echoWorkload(lines: number): Workload {
  const text = Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');
  return {
    key: 'echo',
    label: `${lines} lines, one write each (shell echo)`,
    command: ['sh', '-c', `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i+1)); done`],
    bytes: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

type Variant = 'es-run' | 'es-exec' | LogDriver;
const LABEL: Record<Variant, string> = {
  'es-run': 'exec-stream run',
  'es-exec': 'exec-stream exec',
  none: 'docker run --log-driver none',
  local: 'docker run --log-driver local',
  'json-file': 'docker run (json-file)',
  default: 'docker run',
};

/**
 * 11. Line-oriented output: exec-stream (a run, and an exec, which Docker never logs) against `docker
 * run` with the log drivers `none`, `local` (compress=false, as exec-stream used to configure it) and
 * `json-file`. Walls from Start (or `docker run`) to exit, each client reading every byte; the
 * container's own wall from Docker's State times (the log driver back-pressures the container itself).
 */
export async function lineOutput(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const total = cfg.s11Bytes;
  const workloads = [yesWorkload(11, total), yesWorkload(81, total), echoWorkload(Math.max(1000, Math.floor(total / 20)))];
  const sc = new Scenario(11, 'Line-oriented output', { bytes: fmtBytes(total), reps: cfg.reps, workloads: workloads.map((w) => w.label).join('; ') });
  sc.notes.push('exec-stream runs with its defaults: log driver none, the output record kept by exec-stream-shim in the container (docs/DURABILITY.md).');
  const conn = new GRPCConnectionManager({ address: ctx.server.address });
  const client = new ExecClient(conn);
  const meter = new CpuMeter(ctx.server.pid);
  const containers: string[] = [];
  // The exec variant runs in one long-lived container made for it.
  const host = client.run(cfg.image, { command: ['sleep', '3600'] });
  const hostId = (await host.ready).containerId;
  containers.push(hostId);
  const variants: Variant[] = ['es-run', 'es-exec', 'none', 'local', 'json-file'];
  const walls = new Map<string, number[]>();
  const inner = new Map<string, number[]>();
  const cpu = new Map<string, CpuSample[]>();
  const add = <T>(m: Map<string, T[]>, key: string, v: T) => m.set(key, [...(m.get(key) ?? []), v]);
  try {
    for (const w of workloads) {
      await alternate(cfg.reps, variants, async (v) => {
        const key = `${w.key}/${v}`;
        const spent = meter.start();
        try {
          if (v === 'es-run' || v === 'es-exec') {
            const t0 = performance.now();
            const s = v === 'es-run' ? client.run(cfg.image, { command: w.command }) : client.exec(hostId, { command: w.command });
            const ready = await s.ready;
            if (v === 'es-run') containers.push(ready.containerId);
            const d = await drain(s, t0, { hash: true });
            add(walls, key, d.endMs);
            if (v === 'es-run') add(inner, key, containerWallMs(ready.containerId));
            sc.check(`${LABEL[v]}: every byte, exit 0`, d.sha256 === w.sha256 && d.exitCode === 0, `${w.key}: ${d.bytes} bytes, exit ${d.exitCode}`);
            await sleep(100); // the server's last writes, before its CPU is read
          } else {
            const name = `bench-lines-${process.pid}-${Date.now()}`;
            const r = await dockerRunNamed(cfg.image, w.command, v, name);
            add(walls, key, r.wallMs);
            add(inner, key, containerWallMs(name));
            removeContainers([name]);
            sc.check(`${LABEL[v]}: every byte`, r.sha256 === w.sha256 && r.exitCode === 0, `${w.key}: ${r.bytes} bytes, exit ${r.exitCode} ${r.stderr}`);
          }
        } catch (e) {
          sc.check(`${LABEL[v]}: every byte, exit 0`, false, `${w.key}: ${errText(e)}`);
        }
        add(cpu, key, spent());
        ctx.log(`  s11 ${key}: ${walls.get(key)?.at(-1)?.toFixed(0)} ms`);
      });
      for (const v of variants) {
        const key = `${w.key}/${v}`;
        const label = `${LABEL[v]}, ${w.label}`;
        const baseLabel = `${LABEL.none}, ${w.label}`;
        sc.row('wall', label, 'ms', walls.get(key) ?? [], v === 'none' ? undefined : baseLabel);
        if (v !== 'es-exec') sc.row('container wall', label, 'ms', inner.get(key) ?? [], v === 'none' ? undefined : baseLabel);
        const c = cpu.get(key) ?? [];
        sc.row(
          'CPU s',
          `${label}: exec-stream server`,
          's',
          c.map((x) => x.server),
        );
        sc.row(
          'CPU s',
          `${label}: dockerd`,
          's',
          c.map((x) => x.dockerd),
        );
      }
      sc.ratios();
      for (const v of ['es-run', 'es-exec'] as const) {
        const r = sc.rows.find((x) => x.metric === 'wall' && x.variant === `${LABEL[v]}, ${w.label}`);
        sc.goal(`${LABEL[v]} wall ≤ 1.25× --log-driver none, ${w.label}`, r?.ratios[0]?.ratio ?? NaN, 1.25);
      }
      const inside = sc.rows.find((x) => x.metric === 'container wall' && x.variant === `${LABEL['es-run']}, ${w.label}`);
      sc.goal(`exec-stream run's container wall ≤ 1.25× --log-driver none, ${w.label}`, inside?.ratios[0]?.ratio ?? NaN, 1.25);
    }
  } finally {
    host.cancel();
    conn.close();
    removeContainers(containers);
  }
  return sc.result();
}

/** `docker run` kept after exit under `name` (its State times are read, then it is removed). */
function dockerRunNamed(image: string, command: string[], driver: LogDriver, name: string) {
  const args = ['run', '--name', name, '--network', 'none'];
  if (driver !== 'default') args.push('--log-driver', driver);
  if (driver === 'local') args.push('--log-opt', 'compress=false');
  return runCli('docker', [...args, image, ...command], { hash: true });
}
