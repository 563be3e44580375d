import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { fmtBytes } from './config';
import { CpuMeter, perGiB, type CpuSample } from './cpu';
import { removeContainers } from './docker-cli';
import { zeroCommand } from './payload';
import type { ServerHandle } from './server-process';
import { Scenario, alternate, drain, errText, sleep, type BenchContext, type ScenarioResult } from './scenarios';

/**
 * 9. A/B of two builds on the same machine at the same time: this checkout's server against the one of
 * BENCH_COMPARE_ROOT (another checkout, built), alternating per repetition. Each run is scenario 1's
 * stream to one client, and the same stream to `k` clients (the largest of BENCH_S2_CLIENTS, the first
 * one runs, the others attach). This is how a hot-path change is measured on a busy machine: both sides
 * see the same load, so their ratio holds where sequential runs would not. Off unless the root is set.
 */
export async function compareBuilds(ctx: BenchContext): Promise<ScenarioResult> {
  const { cfg } = ctx;
  const n = cfg.s1Bytes;
  const k = Math.max(...cfg.s2Clients);
  const sc = new Scenario(9, 'A/B: this build against BENCH_COMPARE_ROOT', { bytes: fmtBytes(n), fan_out_clients: k, reps: cfg.reps, other: cfg.compareRoot });
  if (!cfg.compareRoot || !ctx.spawnServer) {
    sc.na = 'set BENCH_COMPARE_ROOT (a built checkout) to compare';
    return sc.result();
  }
  const containers: string[] = [];
  let other: ServerHandle | undefined;
  try {
    other = await ctx.spawnServer({}, undefined, cfg.compareRoot);
    const servers = { this: ctx.server, other };
    const walls: Record<string, number[]> = { 'this 1': [], 'other 1': [], [`this ${k}`]: [], [`other ${k}`]: [] };
    const cpu: Record<string, CpuSample[]> = { 'this 1': [], 'other 1': [], [`this ${k}`]: [], [`other ${k}`]: [] };
    const once = async (side: 'this' | 'other', clients: number) => {
      const conns = Array.from(
        { length: clients },
        () => new GRPCConnectionManager({ address: servers[side].address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
      );
      const spent = new CpuMeter(servers[side].pid).start();
      try {
        const t0 = performance.now();
        const first = new ExecClient(conns[0]).run(cfg.image, { command: zeroCommand(n) });
        const ready = await first.ready;
        containers.push(ready.containerId);
        const sessions = [first, ...conns.slice(1).map((c) => new ExecClient(c).attach({ sessionId: ready.sessionId }))];
        const done = await Promise.all(sessions.map((s) => drain(s, t0)));
        const ok = done.every((d) => d.bytes === n && d.exitCode === 0);
        sc.check(`${side}, ${clients} client(s): every byte to every client, exit 0`, ok, done.map((d) => `${d.bytes}/${d.exitCode}`).join(' '));
        if (ok) walls[`${side} ${clients}`].push(Math.max(...done.map((d) => d.endMs)));
      } catch (e) {
        sc.check(`${side}, ${clients} client(s): every byte to every client, exit 0`, false, errText(e));
      } finally {
        for (const c of conns) c.close();
      }
      await sleep(100);
      const c = spent();
      cpu[`${side} ${clients}`].push(c);
      ctx.log(
        `  s9 ${side} ×${clients}: ${walls[`${side} ${clients}`].at(-1)?.toFixed(0)} ms; CPU s: server ${c.server.toFixed(2)} bench ${c.bench.toFixed(2)}`,
      );
    };
    await alternate(cfg.reps, ['this', 'other'] as const, async (side) => {
      await once(side, 1);
      if (k > 1) await once(side, k);
    });
    for (const clients of k > 1 ? [1, k] : [1]) {
      const v = (side: string) => `${side}, ${clients} client${clients === 1 ? '' : 's'}`;
      sc.row('wall', v('this'), 'ms', walls[`this ${clients}`], v('other'));
      sc.row('wall', v('other'), 'ms', walls[`other ${clients}`]);
      sc.row(
        'server CPU per GiB of session output',
        v('this'),
        's',
        cpu[`this ${clients}`].map((c) => perGiB(c.server, n)),
        v('other'),
      );
      sc.row(
        'server CPU per GiB of session output',
        v('other'),
        's',
        cpu[`other ${clients}`].map((c) => perGiB(c.server, n)),
      );
      sc.row(
        'client CPU per GiB delivered',
        v('this'),
        's',
        cpu[`this ${clients}`].map((c) => perGiB(c.bench, n * clients)),
        v('other'),
      );
      sc.row(
        'client CPU per GiB delivered',
        v('other'),
        's',
        cpu[`other ${clients}`].map((c) => perGiB(c.bench, n * clients)),
      );
    }
  } catch (e) {
    sc.check('scenario runs', false, errText(e));
  } finally {
    removeContainers(containers);
    await other?.stop();
  }
  return sc.result();
}
