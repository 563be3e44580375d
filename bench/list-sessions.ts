/**
 * ListSessions latency with many retained sessions (issue 13): its cost must not depend on how much
 * output the sessions hold. Two data dirs of N finished sessions each are written with the service's
 * own SessionFiles (meta, process, index, output, exit with Outcome), one with `--small-bytes` of
 * output per session and one with `--large-bytes`; the built service (scripts/serve.sh) loads each at
 * start, then ListSessions is called `--calls` times per query shape over gRPC by our client, and the
 * p50 / p99 latency (ms) of each is printed (a table, and JSON with --json).
 *
 *   bash scripts/build.sh && node_modules/.bin/node dist/bench/list-sessions.js [-- --sessions=1000 --calls=300
 *       --small-bytes=100 --large-bytes=256K --json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { GRPCConnectionManager } from '@exec-stream/client';
import type { ListSessionsRequest, ListSessionsResponse__Output } from '@exec-stream/client/wire';
import { fmtBytes, parseBytes } from './config';
import { startServer } from './server-process';
import { writeSessions } from '../test/support/retained-sessions';

interface Options {
  sessions: number;
  calls: number;
  smallBytes: number;
  largeBytes: number;
  json: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { sessions: 1000, calls: 300, smallBytes: 100, largeBytes: 256 * 1024, json: false };
  for (const a of argv) {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    if (k === 'sessions') o.sessions = Number(v);
    else if (k === 'calls') o.calls = Number(v);
    else if (k === 'small-bytes') o.smallBytes = parseBytes(v);
    else if (k === 'large-bytes') o.largeBytes = parseBytes(v);
    else if (k === 'json') o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function call(connection: GRPCConnectionManager, req: ListSessionsRequest): Promise<ListSessionsResponse__Output> {
  return new Promise((resolve, reject) =>
    connection
      .getClient()
      .ListSessions(req, connection.getMetadata(), (err: ServiceError | null, res?: ListSessionsResponse__Output) => (err ? reject(err) : resolve(res!))),
  );
}

const QUERIES: Record<string, ListSessionsRequest> = {
  'all, limit 1000': { limit: 1000 },
  'first page, limit 100': {},
  'label filter (1 in 10), limit 1000': { labels: { team: 't3' }, limit: 1000 },
  'state running (none)': { state: 'running' },
};

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(o: Options, bytes: number): Promise<Record<string, { p50: number; p99: number; items: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-bench-list-'));
  try {
    writeSessions(dir, o.sessions, bytes);
    // Every seeded session must stay: retention by age far off, by size at its default (10 GiB, far
    // above the fixture), and no data-disk reserve (1 byte). A huge EXEC_RETENTION_BYTES made the derived
    // reserve a quarter of the file system, which a disk three quarters used is short of: every
    // session was removed at once ("lists 0 of 3").
    const server = await startServer({ env: { EXEC_DATA_DIR: dir, EXEC_RETENTION_SECONDS: String(7 * 86_400), EXEC_DATA_RESERVE_BYTES: '1' } });
    const connection = new GRPCConnectionManager({ address: server.address });
    try {
      const all = await call(connection, { limit: 1000 });
      if ((all.sessions ?? []).length !== Math.min(1000, o.sessions))
        throw new Error(`the service lists ${(all.sessions ?? []).length} of ${o.sessions} sessions`);
      const out: Record<string, { p50: number; p99: number; items: number }> = {};
      for (const [name, req] of Object.entries(QUERIES)) {
        for (let i = 0; i < 20; i++) await call(connection, req); // warm-up
        const ms: number[] = [];
        let items = 0;
        for (let i = 0; i < o.calls; i++) {
          const t = performance.now();
          const res = await call(connection, req);
          ms.push(performance.now() - t);
          items = (res.sessions ?? []).length;
        }
        ms.sort((a, b) => a - b);
        out[name] = { p50: pct(ms, 50), p99: pct(ms, 99), items };
      }
      return out;
    } finally {
      connection.close();
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const small = await measure(o, o.smallBytes);
  const large = await measure(o, o.largeBytes);
  if (o.json) {
    console.log(JSON.stringify({ options: o, small, large }, null, 2));
    return;
  }
  console.log(`ListSessions over ${o.sessions} retained sessions, ${o.calls} calls each (ms)\n`);
  console.log(`| query | items | p50 (${fmtBytes(o.smallBytes)}/session) | p99 | p50 (${fmtBytes(o.largeBytes)}/session) | p99 |`);
  console.log('|---|---|---|---|---|---|');
  for (const name of Object.keys(QUERIES)) {
    const s = small[name];
    const l = large[name];
    console.log(`| ${name} | ${s.items} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} |`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
