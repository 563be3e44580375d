import { status, type ServiceError } from '@grpc/grpc-js';
import { readdirSync } from 'node:fs';
import { buildService, childService, type ChildService } from './support/child-service';
import { sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';

/**
 * File descriptors: a finished session holds none (its files are opened on demand for a reader and
 * closed after), so a service with a low fd limit serves far more sessions than it could hold open at
 * once, and running out is a clear error it recovers from. (That the count stays flat across sessions is
 * measured in test/reliability/fd-exhaustion.rel-spec.ts.)
 */
jest.setTimeout(120_000);

const openFds = (svc: ChildService) => readdirSync(`/proc/${svc.proc!.pid}/fd`).length;

/** Runs `count` short sessions, `parallel` at a time; returns each one's session id and output. */
async function runMany(svc: ChildService, count: number, parallel = 2) {
  const results: Array<{ sessionId: string; stdout: Buffer; exitCode: number }> = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const s = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', `echo session ${i}; head -c 3000 /dev/urandom`] });
      const { sessionId } = await s.ready;
      const { stdout, exitCode } = await s.collect();
      results[i] = { sessionId, stdout, exitCode };
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

/**
 * The open-file limit of the service below: about two dozen above what an idle service holds, room for
 * the two sessions runMany runs at a time (each holds a few files and Docker connections while it runs:
 * about six, measured, so a third at once would leave no room for the Docker requests of a start).
 */
const NOFILE = 48;
/**
 * More than the descriptors an idle service leaves free (48 minus the 28 or 29 it held, measured: about
 * 20), with room for a few fewer held at rest than now; fewer sessions would not prove that finished ones
 * hold none (the first check says so if they could not). 30 took 30 s: each is a container, and container
 * create/start/remove on dockerd is where the time goes, not the two at a time.
 */
const SESSIONS = 26;

// One service for both tests (a service start each proved nothing more): EXEC_MAX_SESSIONS leaves the
// limit on sessions out of the second test's way.
let svc: ChildService;
beforeAll(async () => {
  buildService();
  svc = await childService({ EXEC_MAX_SESSIONS: '200' }, { nofile: NOFILE });
  await svc.start();
});
afterAll(() => svc?.dispose());

describe('file descriptors of finished sessions', () => {
  it(`under \`prlimit --nofile=${NOFILE}\`, ${SESSIONS} sessions all work and the oldest replays byte-exact`, async () => {
    // Fewer than SESSIONS descriptors are free: finished sessions holding even one each would exhaust them.
    expect(NOFILE - openFds(svc)).toBeLessThan(SESSIONS);
    const runs = await runMany(svc, SESSIONS);
    expect(runs.filter((r) => r.exitCode !== 0)).toEqual([]);
    const first = runs[0];
    expect(first.stdout.subarray(0, 10).toString()).toBe('session 0\n');
    const replay = await svc.client.attach({ sessionId: first.sessionId }).collect();
    expect(sha256(replay.stdout)).toBe(sha256(first.stdout));
    expect(replay.exitCode).toBe(0);
  });

  it('running out of descriptors is RESOURCE_EXHAUSTED saying so, and the service serves again afterwards', async () => {
    // 20 sessions asked for at once, each running until its stdin ends: each holds its files and Docker
    // connections meanwhile, and 20 of them cannot fit in what is free.
    const sessions = Array.from({ length: 20 }, () => svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'read x; exit 0'], openStdin: true }));
    const started = await Promise.all(
      sessions.map((s) =>
        s.ready.then(
          () => true,
          () => false,
        ),
      ),
    );
    for (const [i, s] of sessions.entries()) if (started[i]) s.closeStdin();
    const outcomes = await Promise.all(
      sessions.map((s) =>
        s.wait().then(
          (code) => ({ code: status.OK, details: `exit ${code}` }),
          (err: ServiceError) => ({ code: err.code, details: err.details }),
        ),
      ),
    );
    const failed = outcomes.filter((o) => o.code !== status.OK);
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/file descriptors/) });
    expect(outcomes.filter((o) => o.code === status.OK).every((o) => o.details === 'exit 0')).toBe(true);
    const after = await runMany(svc, 5);
    expect(after.every((r) => r.exitCode === 0)).toBe(true);
  });
});
