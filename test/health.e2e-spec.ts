import { credentials, makeClientConstructor, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { buildService, childService, type ChildService } from './support/child-service';
import { secondEngine, type SecondEngine } from './support/docker-engine';
import { sleep } from './support/helpers';
import { BASE_IMAGE } from './support/server';

// Health tells the truth (docs/LIFECYCLE.md): the real service as a child process on a Docker engine of
// this suite's own (scripts/docker-engine.sh health-e2e), never the shared one, watched by a real
// grpc.health.v1 client: NOT_SERVING while Docker is down, SERVING once it answers, NOT_SERVING on SIGTERM.
jest.setTimeout(120_000);

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void;
  watch(req: { service: string }): ClientReadableStream<{ status: string }>;
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
