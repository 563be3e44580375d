import { createHash } from 'node:crypto';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';

/**
 * A process of scenario 2's clients (bench/fanout-clients.ts forks it), so that the clients' decoding
 * and hashing is spread over processes as separate applications' would be, not all on the bench's one
 * thread. Messages from the parent: `prepare` (open `clients` connections, each its own HTTP/2
 * connection, and wait until each is ready), then `attach` (attach every client to the session, read
 * and hash all its stdout). It answers `ready`, then `done` with each client's sha256, byte count,
 * exit code and end time (ms since the epoch, sub-ms: performance.timeOrigin + now(), the same clock
 * in every process) and its own CPU-seconds for the reading.
 */
export type WorkerRequest = { type: 'prepare'; address: string; clients: number } | { type: 'attach'; sessionId: string } | { type: 'exit' };

export interface ClientOutcome {
  sha256?: string;
  bytes: number;
  exitCode?: number;
  endEpochMs: number;
  error?: string;
}

export type WorkerReply = { type: 'ready' } | { type: 'done'; clients: ClientOutcome[]; cpuSeconds: number } | { type: 'failed'; error: string };

const epochMs = () => performance.timeOrigin + performance.now();
let conns: GRPCConnectionManager[] = [];

async function attachAll(sessionId: string): Promise<ClientOutcome[]> {
  return Promise.all(
    conns.map(async (conn): Promise<ClientOutcome> => {
      const h = createHash('sha256');
      let bytes = 0;
      try {
        const s = new ExecClient(conn).attach({ sessionId });
        for await (const p of s.output()) {
          if (p.stream !== 'stdout') continue;
          bytes += p.data.length;
          h.update(p.data);
        }
        const exitCode = await s.exit;
        return { sha256: h.digest('hex'), bytes, exitCode, endEpochMs: epochMs() };
      } catch (e) {
        return { bytes, endEpochMs: epochMs(), error: (e as Error).message };
      }
    }),
  );
}

function reply(m: WorkerReply): void {
  process.send!(m);
}

process.on('message', (m: WorkerRequest) => {
  if (m.type === 'prepare') {
    conns = Array.from({ length: m.clients }, () => new GRPCConnectionManager({ address: m.address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
    Promise.all(conns.map((c) => new Promise<void>((res, rej) => c.getClient().waitForReady(Date.now() + 30_000, (err) => (err ? rej(err) : res()))))).then(
      () => reply({ type: 'ready' }),
      (e: Error) => reply({ type: 'failed', error: e.message }),
    );
  } else if (m.type === 'attach') {
    const before = process.cpuUsage();
    void attachAll(m.sessionId).then((clients) => {
      const u = process.cpuUsage(before);
      reply({ type: 'done', clients, cpuSeconds: (u.user + u.system) / 1e6 });
    });
  } else {
    for (const c of conns) c.close();
    process.exit(0);
  }
});
