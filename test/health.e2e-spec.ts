import { credentials, makeClientConstructor, Metadata, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { service as healthService } from 'grpc-health-check';
import { buildService, childService, type ChildService } from './support/child-service';
import { secondEngine, type SecondEngine } from './support/docker-engine';
import { DockerSocketProxy } from './support/docker-socket-proxy';
import { sleep } from './support/helpers';
import { BASE_IMAGE } from './support/server';

// Health tells the truth (docs/LIFECYCLE.md): the real service as a child process on a Docker engine of
// this suite's own (scripts/docker-engine.sh health-e2e), never the shared one, watched by a real
// grpc.health.v1 client: NOT_SERVING while Docker is down, SERVING once it answers, NOT_SERVING on SIGTERM.
jest.setTimeout(120_000);

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
  watch(req: { service: string }, metadata?: Metadata): ClientReadableStream<{ status: string }>;
};

const SERVICES = ['', 'dagger.exec.Exec'];
let engine: SecondEngine;
let svc: ChildService;
let health: HealthClient;

const check = (service: string) =>
  new Promise<string>((resolve, reject) => health.check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))));

/** Every status a Watch stream delivered, in order. */
function watch(service: string): { statuses: string[]; stream: ClientReadableStream<{ status: string }> } {
  const statuses: string[] = [];
  const stream = health.watch({ service });
  stream.on('data', (m: { status: string }) => statuses.push(m.status));
  stream.on('error', () => undefined); // cancelled at the end, or the server went away
  return { statuses, stream };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      // The service's own account of its health changes, for whoever reads the failure.
      const said = svc.logs.filter((l) => (l.level as number) >= 40 || /health/.test(String(l.msg))).slice(-10);
      throw new Error(`not within ${timeoutMs} ms: ${what}; service log: ${JSON.stringify(said)}`);
    }
    await sleep(100);
  }
}

beforeAll(async () => {
  engine = secondEngine('health-e2e');
  engine.start();
  buildService();
  svc = await childService({ DOCKER_HOST: engine.host });
  await svc.start();
  const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
  health = new Health(svc.address, credentials.createInsecure()) as unknown as HealthClient;
});
afterAll(async () => {
  health?.close();
  await svc?.dispose();
  engine?.stop();
});

it('follows Docker: NOT_SERVING on Check and Watch while the engine is down, SERVING again once it answers', async () => {
  // The first answers after listening are already true: Docker was asked before the server listened.
  for (const s of SERVICES)
    expect({ s, status: await check(s), logs: svc.logs.filter((l) => (l.level as number) >= 40) }).toEqual({ s, status: 'SERVING', logs: [] });
  const watches = SERVICES.map(watch);
  await until('Watch reports SERVING', () => watches.every((w) => w.statuses.at(-1) === 'SERVING'));
  try {
    engine.stop();
    await until('Watch reports NOT_SERVING', () => watches.every((w) => w.statuses.at(-1) === 'NOT_SERVING'));
    for (const s of SERVICES) expect(await check(s)).toBe('NOT_SERVING');
  } finally {
    engine.start();
  }
  await until('Watch reports SERVING again', () => watches.every((w) => w.statuses.at(-1) === 'SERVING'));
  for (const s of SERVICES) expect(await check(s)).toBe('SERVING');
  for (const w of watches) {
    expect(w.statuses).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    w.stream.cancel();
  }
  // And it can do its job again: a run on the restarted engine.
  const s = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo back'] });
  expect(await s.wait()).toBe(0);
});

it('turns NOT_SERVING on SIGTERM, delivered on Watch before the process exits', async () => {
  const w = watch('');
  await until('Watch reports SERVING', () => w.statuses.at(-1) === 'SERVING');
  const proc = svc.proc!;
  let atExit: string[] | undefined;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => ((atExit = [...w.statuses]), resolve())));
  proc.kill('SIGTERM');
  await exited;
  expect(atExit).toEqual(['SERVING', 'NOT_SERVING']);
});

describe('start-up recovery', () => {
  /** Unfinished sessions at the restart: several, re-adopted side by side; SERVING comes once all of them are. */
  const SESSIONS = 4;
  /**
   * How long Docker takes to answer each container inspect at the restart (a proxy in front of the engine
   * holds the requests back, as a busy engine would). Re-adopting a session waits for its inspect; on an
   * idle engine all of it outlasts listening by only tens of ms, too short to watch reliably.
   */
  const INSPECT_DELAY_MS = 1500;
  /** Lines of 16000 bytes: one Docker log entry each (a line over 16 KB loses its newline in Docker 20.10's log). */
  const LINE = `${'x'.repeat(15_999)}\n`;
  const LINES = 125;
  /**
   * 2 MB from 1 s in (around the kill: the restart reads it back from Docker's log), then exit 3 once the
   * service is back: on its cue, SIGUSR1 (`docker kill -s USR1`, passed on by the init and the shim).
   */
  const WRITER = [
    'sh',
    '-c',
    `go=; trap 'go=1' USR1; sleep 1; yes ${LINE.trim()} | head -n ${LINES}; echo end; until [ -n "$go" ]; do usleep 20000; done; exit 3`,
  ];

  it('is NOT_SERVING on Watch until every unfinished session is re-adopted, then SERVING; the sessions are whole', async () => {
    const proxy = new DockerSocketProxy(engine.host.replace(/^unix:\/\//, ''));
    const r = await childService({ DOCKER_HOST: await proxy.listen() });
    const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
    // Reconnects every ≤ 20 ms, so a Watch waiting for the restarted server starts as soon as it listens.
    const early = new Health(r.address, credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 10,
      'grpc.max_reconnect_backoff_ms': 20,
    }) as unknown as HealthClient;
    const containers: string[] = [];
    try {
      await r.start();
      const runs = Array.from({ length: SESSIONS }, () => r.client.run(BASE_IMAGE, { command: WRITER, sequenced: true }));
      const sessions = await Promise.all(runs.map((s) => s.ready));
      for (const s of runs) s.cancel(); // the processes go on
      containers.push(...sessions.map((s) => s.containerId));
      await r.stop('SIGKILL');
      proxy.delay(/^GET \S*\/containers\/[0-9a-f]+\/json\b/, INSPECT_DELAY_MS);

      const waitForReady = new Metadata();
      waitForReady.setOptions({ waitForReady: true });
      const seen: Record<string, Array<{ status: string; at: number }>> = {};
      const watches = SERVICES.map((service) => {
        const stream = early.watch({ service }, waitForReady);
        seen[service] = [];
        stream.on('data', (m: { status: string }) => seen[service].push({ status: m.status, at: Date.now() }));
        stream.on('error', () => undefined); // cancelled below
        return stream;
      });
      await r.start();
      const recovered = () => r.logs.filter((l) => l.msg === 'unfinished sessions re-adopted or ended');
      await until('Watch reports SERVING', () => SERVICES.every((s) => seen[s].at(-1)?.status === 'SERVING') && recovered().length > 0, 60_000);
      for (const w of watches) w.cancel();
      const listeningAt = r.logs.filter((l) => l.msg === 'exec-stream listening').at(-1)!.time as number;
      const serving = Math.min(...SERVICES.map((s) => seen[s][1]?.at ?? NaN)) - listeningAt;
      const done = recovered();
      // The first status each Watch got is recovery's NOT_SERVING; SERVING came once every session was re-adopted.
      expect(SERVICES.map((s) => seen[s].map((e) => e.status))).toEqual(SERVICES.map(() => ['NOT_SERVING', 'SERVING']));
      expect(done).toEqual([expect.objectContaining({ sessions: SESSIONS })]);
      expect(r.logs.filter((l) => l.msg === 'session re-adopted')).toHaveLength(SESSIONS);
      expect(done[0].time as number).toBeLessThanOrEqual(listeningAt + serving);
      for (const service of SERVICES)
        expect(await new Promise<string>((res, rej) => early.check({ service }, (e, m) => (e ? rej(e) : res(m!.status))))).toBe('SERVING');

      // Every byte is there once, in order (what was recorded before the kill, then Docker's log), with the true exit code.
      engine.docker('kill', '-s', 'USR1', ...containers);
      const expected = Buffer.from(LINE.repeat(LINES) + 'end\n');
      for (const { sessionId } of sessions) {
        const got = await r.client.attach({ sessionId, sequenced: true }).collect();
        expect({ sessionId, bytes: got.stdout.length, same: got.stdout.equals(expected), exitCode: got.exitCode }).toEqual({
          sessionId,
          bytes: expected.length,
          same: true,
          exitCode: 3,
        });
      }
    } finally {
      early.close();
      await r.dispose();
      await proxy.close();
      // dispose() removes containers on the shared engine only; the service removes these once they exit.
      try {
        if (containers.length) execFileSync('docker', ['-H', engine.host, 'rm', '-f', '-v', ...containers], { stdio: 'ignore' });
      } catch {
        /* some were removed already (exit status 1) */
      }
    }
  });
});
