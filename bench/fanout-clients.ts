import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { dockerSync } from './docker-cli';
import { repoRoot } from './server-process';
import type { ClientOutcome, WorkerReply, WorkerRequest } from './fanout-worker';
import { GO, GO_DONE } from '../test/support/cues';

/**
 * Scenario 2's attaching clients in `processes` child processes (bench/fanout-worker.ts), spread
 * evenly: prepared (forked, connected) before the run, so the timed part is the attach and the reading.
 * The worker runs from the build (dist/bench/), also when the bench itself runs under ts-jest.
 */
export class ClientProcesses {
  private constructor(private readonly workers: ChildProcess[]) {}

  static async start(address: string, clients: number, processes: number): Promise<ClientProcesses> {
    const n = Math.max(1, Math.min(processes, clients));
    const counts = Array.from({ length: n }, (_, i) => Math.floor(clients / n) + (i < clients % n ? 1 : 0));
    const workers = counts.map(() => fork(join(repoRoot(), 'dist', 'bench', 'fanout-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const pool = new ClientProcesses(workers);
    try {
      await Promise.all(workers.map((w, i) => pool.ask(w, { type: 'prepare', address, clients: counts[i] }, 'ready')));
    } catch (e) {
      await pool.stop();
      throw e;
    }
    return pool;
  }

  /** Attaches every client to the session; resolves with each client's outcome and the processes' CPU-seconds. */
  async attach(sessionId: string): Promise<{ clients: ClientOutcome[]; cpuSeconds: number }> {
    const replies = await Promise.all(this.workers.map((w) => this.ask(w, { type: 'attach', sessionId }, 'done')));
    const done = replies as Extract<WorkerReply, { type: 'done' }>[];
    return { clients: done.flatMap((r) => r.clients), cpuSeconds: done.reduce((a, r) => a + r.cpuSeconds, 0) };
  }

  /** Ends the processes and waits until they have exited (so their CPU is counted before the next run's is measured). */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map((w) => {
        if (w.exitCode !== null || w.signalCode !== null) return Promise.resolve();
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        if (w.connected) w.send({ type: 'exit' } satisfies WorkerRequest);
        else w.kill();
        return exited;
      }),
    );
  }

  private ask(w: ChildProcess, m: WorkerRequest, want: WorkerReply['type']): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (r: WorkerReply) => {
        w.off('exit', onExit);
        if (r.type === want) resolve(r);
        else reject(new Error(r.type === 'failed' ? r.error : `unexpected ${r.type}`));
      };
      const onExit = (code: number | null) => {
        w.off('message', onMessage);
        reject(new Error(`client process exited (${code})`));
      };
      w.once('message', onMessage);
      w.once('exit', onExit);
      w.send(m);
    });
  }
}

export interface AttachRun {
  containerId: string;
  /** ms from the go signal to the last client's last byte */
  wallMs: number;
  /** each `docker attach` client's sha256 of its stdout */
  sha256: string[];
}

/**
 * Docker's own fan-out: one container (log driver none) held before its output, `clients` `docker attach`
 * CLIs on it (each piped to sha256sum, in a shell per client), then the output let go (`touch` of the
 * file it waits for, through docker exec) and timed until the last client has its last byte. Docker
 * gives no sign that an attach is in place: the CLIs get `settleMs` to attach before the go. The CLIs'
 * and sha256sum's CPU reaches this process's reaped-children time once the shells have exited.
 */
export async function dockerAttachFanOut(image: string, command: string[], clients: number, settleMs: number): Promise<AttachRun> {
  const script = `until ${GO_DONE}; do usleep 10000; done; exec "$@"`;
  const id = dockerSync(['run', '-d', '--network', 'none', '--log-driver', 'none', image, 'sh', '-c', script, 'wait', ...command]);
  const shells = Array.from({ length: clients }, () =>
    spawn('sh', ['-c', 'docker attach --no-stdin "$0" | sha256sum', id], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  const outputs = shells.map(
    (sh) =>
      new Promise<string>((resolve) => {
        let out = '';
        sh.stdout.on('data', (b: Buffer) => (out += b.toString()));
        sh.on('close', () => resolve(out.split(' ')[0]));
      }),
  );
  const ends = outputs.map((p) => p.then(() => performance.now()));
  await new Promise((r) => setTimeout(r, settleMs));
  const t0 = performance.now();
  dockerSync(['exec', id, ...GO]);
  const sha256 = await Promise.all(outputs);
  const wallMs = Math.max(...(await Promise.all(ends))) - t0;
  return { containerId: id, wallMs, sha256 };
}
