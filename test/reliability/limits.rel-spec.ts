import { Client, credentials, Metadata, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { ControlClient } from '@exec-stream/client';
import { execProtoPath, PROTO_LOADER_OPTIONS, type ListSessionsRequest, type ListSessionsResponse__Output } from '@exec-stream/client/wire';
import { buildService } from '../support/child-service';
import { sha256 } from '../support/helpers';
import { BASE_IMAGE, freePort } from '../support/server';
import { recordFigures, tally } from './support/figures';
import { LONG_MS } from './support/hostile';
import { Prng } from './support/prng';
import { probeSession, serviceUnderTest, TOKEN, type ServiceUnderTest } from './support/service';

// Limits a caller reaches with valid input (issue 23): timeouts past Node's one-timer limit, a timeout the
// process answers by exiting 0, ListSessions pages of the largest sessions merged across two replicas, and
// page tokens the service never gave out. Two replicas of the built service, peers of each other, on the
// shared engine (distinct replica ids).
let a: ServiceUnderTest;
let b: ServiceUnderTest;
beforeAll(async () => {
  buildService();
  const [pa, pb] = [await freePort(), await freePort()];
  const ids = [`rel-a-${process.pid}`, `rel-b-${process.pid}`];
  const peers = `${ids[0]}=127.0.0.1:${pa},${ids[1]}=127.0.0.1:${pb}`;
  [a, b] = await Promise.all([
    serviceUnderTest({ EXEC_REPLICA_ID: ids[0], EXEC_PEERS: peers }, { port: pa }),
    serviceUnderTest({ EXEC_REPLICA_ID: ids[1], EXEC_PEERS: peers }, { port: pb }),
  ]);
}, 180_000);
afterAll(async () => {
  await a?.dispose();
  await b?.dispose();
});

/** The long timeouts a Start may ask for (2^53 and more are INVALID_ARGUMENT). */
const ACCEPTED_MS = LONG_MS.filter((ms) => BigInt(ms) <= BigInt(Number.MAX_SAFE_INTEGER));

/** CPU time (user + system, ms) a process has used, from /proc/PID/stat. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

it('timeouts past 2^31-1 ms do not fire early (hard and idle, up to 2^53-1); a timed-out process that exits 0 on SIGTERM is told apart', async () => {
  const RUNS = 6;
  const before = cpuMs(a.pid());
  const t0 = Date.now();
  const runs = await Promise.all(
    Array.from({ length: RUNS }, async (_, i) => {
      const s = a.client.start({
        image: BASE_IMAGE,
        // 1 s: a delay past 2^31-1 ms that reached setTimeout as it is would fire after 1 ms (Node's
        // overflow rule), a thousandth of that, and end the run as a timeout.
        command: ['sh', '-c', 'sleep 1; echo done'],
        timeout_ms: ACCEPTED_MS[i % ACCEPTED_MS.length],
        idle_timeout_ms: ACCEPTED_MS[(i + 3) % ACCEPTED_MS.length],
      });
      const r = await s.collect();
      return { stdout: r.stdout.toString(), exitCode: r.exitCode, reason: s.outcome?.reason };
    }),
  );
  const waitedMs = Date.now() - t0;
  const serviceCpuMs = Math.round(cpuMs(a.pid()) - before);
  const trap = a.client.start({
    image: BASE_IMAGE,
    command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'],
    timeout_ms: 500,
    kill_grace_ms: 60_000,
  });
  const trapped = await trap.collect();
  const outcomes: Record<string, number> = {};
  for (const r of runs) tally(outcomes, `${r.reason} ${r.exitCode} ${JSON.stringify(r.stdout)}`);
  const figures = {
    runs: RUNS,
    timeoutsMs: ACCEPTED_MS,
    outcomes,
    waitedMs,
    serviceCpuMs,
    trapped: { exitCode: trapped.exitCode, ...trap.outcome },
  };
  recordFigures('long-timers', figures);
  expect(outcomes).toEqual({ 'exited 0 "done\\n"': RUNS });
  expect(trap.outcome).toMatchObject({
    reason: 'timeout',
    exit_code: 0,
    signal: 0,
    timeout_signal: 15,
    message: expect.stringContaining('the process then exited by itself with code 0, before SIGKILL'),
  });
});

const LIST = (loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)['dagger.exec.Exec'] as unknown as Record<string, MethodDefinition<object, object>>).ListSessions;

/** ListSessions as a client with grpc-js's default options makes it (4 MiB receive limit); the page with its size on the wire. */
function listPage(client: Client, req: ListSessionsRequest): Promise<{ page: ListSessionsResponse__Output; bytes: number }> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${TOKEN}`);
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      LIST.path,
      LIST.requestSerialize,
      (b: Buffer) => b,
      req,
      md,
      (err: ServiceError | null, raw?: Buffer) => (err ? reject(err) : resolve({ page: LIST.responseDeserialize(raw!), bytes: raw!.length })),
    ),
  );
}

it('ListSessions of the largest sessions, merged from a peer: pages stay under 1 MiB, a default client reads every session once; made-up page tokens are INVALID_ARGUMENT', async () => {
  const suite = `big-${process.pid}`;
  // On replica b: 13 execs with 252 KiB of arguments and 64 labels of 1 KiB (~330 KiB each, ~4.3 MB in all).
  const holder = b.client.run(BASE_IMAGE, { command: ['sleep', '300'] });
  const { containerId } = await holder.ready;
  const command = (i: number) => ['true', ...[1, 2, 3, 4].map((n) => `${i}.${n}.`.padEnd(63 * 1024, 'x'))];
  const labels = (i: number): Record<string, string> => ({
    suite,
    ...Object.fromEntries(Array.from({ length: 63 }, (_, k) => [`l${k}`, `${i}`.padEnd(1024, 'v')])),
  });
  const made = new Map<string, number>();
  await Promise.all([
    ...Array.from({ length: 13 }, async (_, i) => {
      const s = b.client.start({ container_id: containerId, command: command(i), labels: labels(i) });
      made.set((await s.ready).sessionId, i);
      expect(await s.wait()).toBe(0);
    }),
    // On replica a, at the same time: three small ones, listed in the same pages.
    ...Array.from({ length: 3 }, async () => {
      const s = a.client.run(BASE_IMAGE, { command: ['true'], labels: { suite } });
      made.set((await s.ready).sessionId, -1);
      expect(await s.wait()).toBe(0);
    }),
  ]);
  const plain = new Client(a.svc.address, credentials.createInsecure());
  const seen: string[] = [];
  const pageBytes: number[] = [];
  const pageSizes: number[] = [];
  const unreachable: string[] = [];
  let exact = 0;
  let given = '';
  try {
    for (let token = '', first = true; first || token; first = false) {
      const { page, bytes } = await listPage(plain, { labels: { suite }, page_token: token });
      pageBytes.push(bytes);
      pageSizes.push(page.sessions?.length ?? 0);
      unreachable.push(...(page.unreachable_replicas ?? []));
      for (const info of page.sessions ?? []) {
        seen.push(info.session_id!);
        const i = made.get(info.session_id!);
        if (i === -1 || (i !== undefined && sha256(info.command!.join('\0')) === sha256(command(i).join('\0')) && info.labels?.l62 === labels(i).l62)) exact++;
      }
      token = page.next_page_token ?? '';
      if (first) given = token;
    }

    // Made-up, altered and truncated page tokens, asked of both replicas: each INVALID_ARGUMENT; the real one works.
    const rng = new Prng(80_010);
    const alter = (t: string) => {
      const at = rng.int(t.length);
      return t.slice(0, at) + (t[at] === 'A' ? 'B' : 'A') + t.slice(at + 1);
    };
    const madeUp = (): string => {
      switch (rng.int(6)) {
        case 0:
          return Buffer.from(`${rng.int(2e12)}:${rng.pick(seen)}`).toString('base64url'); // a position in the tokens' form, without their check
        case 1:
          return alter(given);
        case 2:
          return given.slice(0, 1 + rng.int(given.length - 1));
        case 3:
          return `${given.slice(0, 4)}${rng.pick(['*', '=', '!', ' ', '\t'])}${given.slice(4)}`; // base64url decoding would skip it
        case 4:
          return Buffer.from(
            Buffer.from(given, 'base64url')
              .toString()
              .replace(/\d/, (d) => String((Number(d) + 1) % 10)),
          ).toString('base64url');
        default:
          return rng.bytes(1 + rng.int(60)).toString('base64url');
      }
    };
    const tokenAnswers: Record<string, number> = {};
    const TOKENS = 200;
    // The tokens are drawn in order (the seed fixes them), then asked side by side, 20 at a time.
    const tokens = Array.from({ length: TOKENS }, madeUp);
    const controls = [new ControlClient(a.connection), new ControlClient(b.connection)];
    for (let i = 0; i < TOKENS; i += 20) {
      const answers = await Promise.all(
        tokens.slice(i, i + 20).map((token, k) =>
          controls[(i + k) % 2].listSessions({ labels: { suite }, page_token: token }).then(
            () => 'OK',
            (err: ServiceError) => status[err.code],
          ),
        ),
      );
      for (const answer of answers) tally(tokenAnswers, answer);
    }
    const again = await listPage(plain, { labels: { suite }, page_token: given });
    const realContinues = again.page.sessions?.[0]?.session_id === seen[pageSizes[0]];
    const figures = {
      sessions: made.size,
      listed: seen.length,
      distinct: new Set(seen).size,
      exactContent: exact,
      pages: pageBytes.length,
      pageSizes,
      pageBytes,
      realTokenContinues: realContinues,
      unreachable,
      tokens: TOKENS,
      tokenAnswers,
    };
    recordFigures('oversized-listings', figures);
    expect(new Set(seen)).toEqual(new Set(made.keys()));
    expect(seen).toHaveLength(made.size);
    expect(exact).toBe(made.size);
    expect(unreachable).toEqual([]);
    // LIST_MAX_PAGE_BYTES of sessions (estimated from above) and the page's own few fields.
    expect(Math.max(...pageBytes)).toBeLessThanOrEqual(1024 * 1024 + 1024);
    expect(Object.keys(tokenAnswers).filter((k) => k !== 'INVALID_ARGUMENT')).toEqual([]);
    expect(realContinues).toBe(true);
  } finally {
    plain.close();
    holder.cancel();
  }
  expect(await probeSession(a)).toEqual({ alive: true, exact: true, exitCode: 3 });
});
