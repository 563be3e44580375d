import { createHash } from 'node:crypto';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { fmtBytes } from './config';
import { CpuMeter, type CpuSample } from './cpu';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerCpuSeconds, containerWallMs, removeContainers, runCli, watchContainerCpu, type LogDriver } from './docker-cli';
import type { ServerHandle } from './server-process';
import { alternate, drain, errText, Scenario, sleep, type BenchContext, type ScenarioResult } from './scenarios';

/**
 * The workloads of scenario 11: output as most real commands write it, a line at a time. `yes | head`
 * writes many short lines per write (Docker's log drivers still make one message per line); the shell
 * loop makes one write per line (each a separate read for whoever reads the pipe).
 */
interface Workload {
  key: string;
  label: string;
  /** A shell script (sh -c) writing the output. */
  script: string;
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
    script: `yes ${text} | head -c ${total}`,
    bytes: total,
    sha256: createHash('sha256').update(all).digest('hex'),
  };
}

function echoWorkload(lines: number): Workload {
  const text = Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');
  return {
    key: 'echo',
    label: `${lines} lines, one write each (shell echo)`,
    script: `i=0; while [ $i -lt ${lines} ]; do echo "line $i"; i=$((i+1)); done`,
    bytes: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

/**
 * The workload held until a line arrives on stdin: an exec-stream run's container id is known only at
 * Ready, by which time a small workload may have ended and its cgroup gone, leaving no CPU to read.
 */
function gated(w: Workload): string[] {
  return ['sh', '-c', `read -r _; ${w.script}`];
}

type Variant = 'es-run' | 'es-exec' | 'es-run-local' | LogDriver;
const LABEL: Record<Variant, string> = {
  'es-run': 'exec-stream run',
  'es-exec': 'exec-stream exec',
  'es-run-local': 'exec-stream run, log driver local (the old default)',
  none: 'docker run --log-driver none',
  local: 'docker run --log-driver local',
  'json-file': 'docker run (json-file)',
  default: 'docker run',
};

/**
 * 11. Line-oriented output: exec-stream (a run, and an exec, which Docker never logs) against `docker
 * run` with the log drivers `none`, `local` (compress=false, as exec-stream used to configure it) and
 * `json-file`; with S11_LOCAL also a run through a second server whose containers log to `local` (the
 * default before the output record). Walls from Start (or `docker run`) to exit, each client reading
 * every byte; the container's own wall from Docker's State times (the log driver back-pressures the
 * container itself) and its CPU from its cgroup; the server's and dockerd's CPU from /proc.
 */
export async function lineOutput(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const total = cfg.s11Bytes;
  const workloads = [yesWorkload(11, total), yesWorkload(81, total), echoWorkload(Math.max(1000, Math.floor(total / 20)))];
  const sc = new Scenario(11, 'Line-oriented output', { bytes: fmtBytes(total), reps: cfg.reps, workloads: workloads.map((w) => w.label).join('; ') });
  sc.notes.push('exec-stream runs with its defaults: log driver none, the output record kept by exec-stream-shim in the container (docs/DURABILITY.md).');
  sc.notes.push(
    "container CPU: the container's cgroup counter, sampled every 20 ms until Docker removes it (the last ≤ 20 ms may be missed); for the exec, the growth of its container's counter. An exec-stream run's workload waits for one line on stdin, sent once its container is sampled (its wall includes that write).",
  );
  const servers: ServerHandle[] = [];
  const conns: GRPCConnectionManager[] = [];
  const containers: string[] = [];
  const cidDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-cid-'));
  const variants: Variant[] = ['es-run', 'es-exec', 'none', 'local', 'json-file'];
  const connect = (server: ServerHandle) => {
    const conn = new GRPCConnectionManager({ address: server.address });
    conns.push(conn);
    return { client: new ExecClient(conn), meter: new CpuMeter(server.pid) };
  };
  const main = connect(ctx.server);
  let local: typeof main | undefined;
  // The exec variant runs in one long-lived container made for it.
  const host = main.client.run(cfg.image, { command: ['sleep', '3600'] });
  const walls = new Map<string, number[]>();
  const inner = new Map<string, number[]>();
  const innerCpu = new Map<string, number[]>();
  const cpu = new Map<string, CpuSample[]>();
  const add = <T>(m: Map<string, T[]>, key: string, v: T) => m.set(key, [...(m.get(key) ?? []), v]);
  try {
    const hostId = (await host.ready).containerId;
    containers.push(hostId);
    if (cfg.s11Local && ctx.spawnServer) {
      const server = await ctx.spawnServer({ EXEC_CONTAINER_LOG_DRIVER: 'local' });
      servers.push(server);
      local = connect(server);
      variants.splice(1, 0, 'es-run-local');
    }
    for (const w of workloads) {
      await alternate(cfg.reps, variants, async (v) => {
        const key = `${w.key}/${v}`;
        const side = v === 'es-run-local' ? local! : main;
        const spent = side.meter.start();
        try {
          if (v === 'es-run' || v === 'es-exec' || v === 'es-run-local') {
            const t0 = performance.now();
            const hostCpu = v === 'es-exec' ? containerCpuSeconds(hostId) : undefined;
            const s =
              v === 'es-exec'
                ? side.client.exec(hostId, { command: ['sh', '-c', w.script] })
                : side.client.run(cfg.image, { command: gated(w), openStdin: true });
            const ready = await s.ready;
            if (v !== 'es-exec') containers.push(ready.containerId);
            const watch = v === 'es-exec' ? undefined : watchContainerCpu(() => ready.containerId);
            let d: Awaited<ReturnType<typeof drain>>;
            try {
              if (v !== 'es-exec') {
                // The run's container is sampled once (watchContainerCpu's first sample) before its workload starts.
                await s.write(Buffer.from('\n'));
                s.closeStdin();
              }
              d = await drain(s, t0, { hash: true });
            } catch (e) {
              watch?.stop();
              throw e;
            }
            add(walls, key, d.endMs);
            if (watch) {
              add(innerCpu, key, watch.stop());
              add(inner, key, containerWallMs(ready.containerId));
            } else add(innerCpu, key, (containerCpuSeconds(hostId) ?? NaN) - (hostCpu ?? NaN));
            sc.check(`${LABEL[v]}: every byte, exit 0`, d.sha256 === w.sha256 && d.exitCode === 0, `${w.key}: ${d.bytes} bytes, exit ${d.exitCode}`);
            await sleep(100); // the server's last writes, before its CPU is read
          } else {
            const name = `bench-lines-${process.pid}-${Date.now()}`;
            const cidFile = join(cidDir, name);
            let cid: string | undefined;
            const watch = watchContainerCpu(() => {
              try {
                cid ??= readFileSync(cidFile, 'utf8').trim() || undefined;
              } catch {
                // not written yet
              }
              return cid;
            });
            const r = await dockerRunNamed(cfg.image, ['sh', '-c', w.script], v, name, cidFile);
            add(innerCpu, key, watch.stop());
            add(walls, key, r.wallMs);
            add(inner, key, containerWallMs(name));
            removeContainers([name]);
            sc.check(`${LABEL[v]}: every byte`, r.sha256 === w.sha256 && r.exitCode === 0, `${w.key}: ${r.bytes} bytes, exit ${r.exitCode} ${r.stderr}`);
          }
        } catch (e) {
          sc.check(`${LABEL[v]}: every byte, exit 0`, false, `${w.key}: ${errText(e)}`);
        }
        add(cpu, key, spent());
        ctx.log(`  s11 ${key}: ${walls.get(key)?.at(-1)?.toFixed(0)} ms, container CPU ${innerCpu.get(key)?.at(-1)?.toFixed(2)} s`);
      });
      for (const v of variants) {
        const key = `${w.key}/${v}`;
        const label = `${LABEL[v]}, ${w.label}`;
        const baseLabel = `${LABEL.none}, ${w.label}`;
        sc.row('wall', label, 'ms', walls.get(key) ?? [], v === 'none' ? undefined : baseLabel);
        if (v !== 'es-exec') sc.row('container wall', label, 'ms', inner.get(key) ?? [], v === 'none' ? undefined : baseLabel);
        sc.row('container CPU', label, 's', innerCpu.get(key) ?? [], v === 'none' ? undefined : baseLabel);
        const c = cpu.get(key) ?? [];
        if (v.startsWith('es-'))
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
    for (const c of conns) c.close();
    removeContainers(containers);
    for (const s of servers) await s.stop();
    rmSync(cidDir, { recursive: true, force: true });
  }
  return sc.result();
}

/** `docker run` kept after exit under `name` (its State times are read, then it is removed). */
function dockerRunNamed(image: string, command: string[], driver: LogDriver, name: string, cidFile: string) {
  const args = ['run', '--name', name, '--cidfile', cidFile, '--network', 'none'];
  if (driver !== 'default') args.push('--log-driver', driver);
  if (driver === 'local') args.push('--log-opt', 'compress=false');
  return runCli('docker', [...args, image, ...command], { hash: true });
}
