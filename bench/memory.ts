/**
 * Memory under a pod limit (issue 10): the service's container image, run on the host engine under
 * `docker run --memory=<limit>` (swap off), driven from outside by our client in three scenarios:
 *   fan-out   one session of N bytes read by 64 clients at once;
 *   stalled   one session of 1 GB read by one client at full speed while a second client reads nothing
 *             until the output has ended, then reads it all;
 *   sessions  50 sessions at once, each of N bytes, each read by its own client.
 * Every client's bytes are checked by sha256 and every exit code; the container must not be OOM-killed.
 * The peak RSS is the service process's (the container's PID 1, read from /proc on the host: clear_refs
 * then VmHWM, and VmRSS sampled every 50 ms), per scenario, with the anonymous part of it (RssAnon, sampled:
 * RSS less the pages of mapped files, ~54 MiB of which are the node binary's own, clean and shared); the
 * memory cgroup's peak is reported beside it.
 *
 *   npm run bench:memory [-- --image=TAG --limit=256m --fanout-bytes=64M --stalled-bytes=1G --session-bytes=8M
 *                            --node-args="--max-semi-space-size=4" --env=EXEC_TAIL_BYTES=1048576 ...]
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecClient, GRPCConnectionManager, type ExecSession } from '@exec-stream/client';
import { fmtBytes, parseBytes } from './config';
import { expectedSha256, yesCommand } from './payload';
import { freePort, PeakRss, repoRoot } from './server-process';

interface Options {
  limit: string;
  fanoutClients: number;
  fanoutBytes: number;
  stalledBytes: number;
  sessions: number;
  sessionBytes: number;
  nodeArgs?: string;
  env: string[];
  scenarios: string[];
  /** An image already built (skips scripts/image-build.sh). */
  image?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    limit: '256m',
    fanoutClients: 64,
    fanoutBytes: parseBytes('64M'),
    stalledBytes: parseBytes('1G'),
    sessions: 50,
    sessionBytes: parseBytes('8M'),
    env: [],
    scenarios: ['fanout', 'stalled', 'sessions'],
  };
  for (const a of argv) {
    const [k, v = ''] = a.replace(/^--/, '').split(/=(.*)/s);
    if (k === 'limit') o.limit = v;
    else if (k === 'fanout-clients') o.fanoutClients = Number(v);
    else if (k === 'fanout-bytes') o.fanoutBytes = parseBytes(v);
    else if (k === 'stalled-bytes') o.stalledBytes = parseBytes(v);
    else if (k === 'sessions') o.sessions = Number(v);
    else if (k === 'session-bytes') o.sessionBytes = parseBytes(v);
    else if (k === 'node-args') o.nodeArgs = v;
    else if (k === 'env') o.env.push(v);
    else if (k === 'scenarios') o.scenarios = v.split(',');
    else if (k === 'image') o.image = v;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const log = (m: string) => process.stderr.write(`[bench:memory] ${m}\n`);

/** Reads a session to its end, hashing stdout; resolves with the hash, the byte count and the exit code. */
async function digest(s: ExecSession): Promise<{ sha: string; bytes: number; exit: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const p of s.output()) {
    if (p.stream === 'stdout') {
      h.update(p.data);
      bytes += p.data.length;
    }
  }
  return { sha: h.digest('hex'), bytes, exit: await s.exit };
}

/** Peak of the container's memory cgroup (v1 max_usage_in_bytes or v2 memory.peak) in MiB, if readable. */
function cgroupPeakMiB(id: string): number | undefined {
  for (const f of [`/sys/fs/cgroup/memory/docker/${id}/memory.max_usage_in_bytes`, `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.peak`]) {
    try {
      return Number(readFileSync(f, 'utf8')) / 1048576;
    } catch {
      /* not this cgroup layout */
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const image =
    o.image ??
    execFileSync('bash', [join(root, 'scripts', 'image-build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const tag = randomBytes(3).toString('hex');
  const replica = `bench-memory-${tag}`;
  const socketGid = statSync('/var/run/docker.sock').gid;
  const dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-memory-'));
  chownSync(dataDir, 1000, 1000);
  const cmd = o.nodeArgs === undefined ? [] : ['node', ...o.nodeArgs.split(' ').filter(Boolean), 'dist/src/main.js'];
  const id = docker(
    ...['run', '-d', '--name', replica, '--network', 'host', `--memory=${o.limit}`, `--memory-swap=${o.limit}`, '--group-add', String(socketGid)],
    // The data directory on the host disk (a tmpfs would be charged to the container's memory).
    ...['-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${dataDir}:/var/lib/exec-stream`],
    ...['-e', `EXEC_LISTEN=127.0.0.1:${port}`, '-e', `EXEC_AUTH_TOKEN=${token}`, '-e', `EXEC_REPLICA_ID=${replica}`, '-e', 'EXEC_LOG_LEVEL=warn'],
    ...o.env.flatMap((e) => ['-e', e]),
    image,
    ...cmd,
  );
  const pid = Number(docker('inspect', '--format', '{{.State.Pid}}', id));
  const conn = new GRPCConnectionManager({ address: `127.0.0.1:${port}`, token });
  const client = new ExecClient(conn);
  const rows: string[] = [];
  let failed = false;
  const check = (what: string, ok: boolean, detail = '') => {
    if (!ok) {
      failed = true;
      log(`FAILED: ${what} ${detail}`);
    }
  };
  try {
    for (let i = 0; ; i++) {
      try {
        await client.run('exec-stream/busybox:latest', { command: ['true'] }).wait();
        break;
      } catch (e) {
        if (i > 100) throw new Error(`the service did not answer: ${(e as Error).message}\n${docker('logs', id)}`, { cause: e });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const idleKb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]);
    rows.push(`| idle (after one run) | ${(idleKb('VmRSS') / 1024).toFixed(0)} MiB | ${(idleKb('RssAnon') / 1024).toFixed(0)} MiB | | |`);
    for (const name of o.scenarios) {
      const peak = new PeakRss(pid);
      const t0 = Date.now();
      let label = '';
      if (name === 'fanout') {
        label = `${o.fanoutClients} clients on one session of ${fmtBytes(o.fanoutBytes)}`;
        const { command } = yesCommand(10, o.fanoutBytes);
        const first = client.run('exec-stream/busybox:latest', { command });
        const { sessionId } = await first.ready;
        const all = [first, ...Array.from({ length: o.fanoutClients - 1 }, () => client.attach({ sessionId }))];
        const want = expectedSha256(10, o.fanoutBytes);
        const got = await Promise.all(all.map(digest));
        check(
          label,
          got.every((g) => g.sha === want && g.exit === 0),
          JSON.stringify(got.filter((g) => g.sha !== want).slice(0, 2)),
        );
      } else if (name === 'stalled') {
        label = `a stalled client while ${fmtBytes(o.stalledBytes)} flows`;
        const { command } = yesCommand(11, o.stalledBytes);
        const fast = client.run('exec-stream/busybox:latest', { command });
        const { sessionId } = await fast.ready;
        const stalled = client.attach({ sessionId });
        await stalled.ready;
        const want = expectedSha256(11, o.stalledBytes);
        const a = await digest(fast);
        const b = await digest(stalled);
        check(label, a.sha === want && b.sha === want && a.exit === 0 && b.exit === 0, JSON.stringify([a, b]));
      } else if (name === 'sessions') {
        label = `${o.sessions} sessions at once, ${fmtBytes(o.sessionBytes)} each`;
        // Started in waves of 10 (50 container starts at once outlast Docker's deadline on 2 cores), each
        // waiting on its stdin; once all are running, one newline to each lets all outputs flow at once.
        const sessions: ExecSession[] = [];
        for (let i = 0; i < o.sessions; i += 10) {
          const wave = Array.from({ length: Math.min(10, o.sessions - i) }, (_, j) => {
            const [, , script, line, bytes] = yesCommand(100 + i + j, o.sessionBytes).command;
            return client.run('exec-stream/busybox:latest', { command: ['sh', '-c', `read go; ${script}`, line, bytes], openStdin: true });
          });
          await Promise.all(wave.map((s) => s.ready));
          sessions.push(...wave);
        }
        const reading = sessions.map(digest);
        await Promise.all(sessions.map((s) => s.write(Buffer.from('\n'))));
        const got = await Promise.all(reading);
        check(
          label,
          got.every((g, i) => g.sha === expectedSha256(100 + i, o.sessionBytes) && g.exit === 0),
          JSON.stringify(got.find((g, i) => g.sha !== expectedSha256(100 + i, o.sessionBytes))),
        );
      } else throw new Error(`unknown scenario ${name}`);
      const mib = peak.stop();
      rows.push(
        `| ${label} | ${mib.toFixed(0)} MiB | ${peak.anonMiB.toFixed(0)} MiB | ${cgroupPeakMiB(id)?.toFixed(0) ?? '–'} MiB | ${((Date.now() - t0) / 1000).toFixed(1)} s |`,
      );
      log(rows.at(-1)!);
    }
    const state = JSON.parse(docker('inspect', '--format', '{{json .State}}', id)) as { Running: boolean; OOMKilled: boolean };
    check('the service container is still running, not OOM-killed', state.Running && !state.OOMKilled, JSON.stringify(state));
  } catch (e) {
    const state = docker('inspect', '--format', '{{json .State}}', id);
    throw new Error(`${(e as Error).message}\nservice container state: ${state}\nits log's end:\n${docker('logs', '--tail', '20', id)}`, { cause: e });
  } finally {
    conn.close();
    docker('rm', '-f', id);
    rmSync(dataDir, { recursive: true, force: true });
    for (const c of docker('ps', '-aq', '--filter', `label=exec-stream.replica=${replica}`).split('\n').filter(Boolean)) docker('rm', '-f', c);
  }
  const flags = o.nodeArgs ?? '(image default)';
  process.stdout.write(
    `\nimage ${image}, --memory=${o.limit}, node flags ${flags}${o.env.length ? `, env ${o.env.join(' ')}` : ''}\n\n` +
      `| scenario | service peak RSS | of it anonymous (sampled) | cgroup peak | wall |\n|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
  if (failed) process.exit(1);
}

main().catch((e) => {
  process.stderr.write(`[bench:memory] ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
