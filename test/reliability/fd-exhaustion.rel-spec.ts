import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildService } from '../support/child-service';
import { closeAll, idleConnections } from '../support/idle-connections';
import { BASE_IMAGE } from '../support/server';
import { alive, processUsage, recordFigures, tally } from './support/figures';
import { encodeRequest } from './support/raw-rpc';
import { probeSession, serviceUnderTest, waitFor, type ServiceUnderTest } from './support/service';

/** The service's fd limit (soft = hard), as `ulimit -n` would set it for scripts/serve.sh's node. */
const NOFILE = 256;
/**
 * Sessions run to their end under the limit, AT_ONCE at a time: a finished session holding even one fd
 * shows as SESSIONS more against the check's slack of 8, so 24 sessions leave a one-fd leak three times
 * the slack (24 = 3 × 8). Each session is a container, and containers are what the suite's time goes to
 * (dockerd's CPU, so more at once does not make them quicker): 100 one at a time took two minutes for the
 * same proof, 40 four at a time 27 s. Six at a time keep more sessions' fds open at once than four did.
 */
const SESSIONS = 24;
const AT_ONCE = 6;
const CONCURRENT = 40;
/**
 * How long every fd stays taken (idle connections to the service, up to its limit) once the sessions
 * have their answers: two looks of the quiet collection (every 2 s) and more of the data directory's
 * probe (every 1 s), the timers that open files that often, each with no fd to spare.
 */
const HOLD_MS = 4500;

/**
 * Sets the fd limit (soft:hard) of the running service process; serve.sh execs node, so the spawned pid
 * is the service. A hard limit cannot be raised again, so the exhaustion step lowers only the soft one.
 */
const limitFds = (pid: number, soft: number, hard = NOFILE) => execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:${hard}`]);

let s: ServiceUnderTest;
beforeAll(async () => {
  buildService();
  s = await serviceUnderTest();
  limitFds(s.pid(), NOFILE);
}, 120_000);
afterAll(() => s?.dispose());

it(`under a ${NOFILE}-fd limit, ${SESSIONS} sessions, ${AT_ONCE} at a time, all succeed (finished sessions hold no fds)`, async () => {
  await probeSession(s);
  const before = processUsage(s.pid());
  const failures: string[] = [];
  const one = async (i: number) => {
    const r = await s.client
      .run(BASE_IMAGE, { command: ['sh', '-c', `echo session ${i}`] })
      .collect()
      .catch((e: { code?: number; details?: string }) => ({ error: `${e.code}: ${e.details}` }));
    if ('error' in r) failures.push(`#${i} ${r.error}`);
    else if (r.stdout.toString() !== `session ${i}\n` || r.exitCode !== 0) failures.push(`#${i} wrong output or exit ${r.exitCode}`);
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next < SESSIONS) await one(next++);
    }),
  );
  await waitFor(() => processUsage(s.pid()).fds <= before.fds + 8, 15_000);
  const after = processUsage(s.pid());
  recordFigures('fd-sessions', {
    nofile: NOFILE,
    sessions: SESSIONS,
    atOnce: AT_ONCE,
    failures: failures.slice(0, 10),
    failureCount: failures.length,
    before,
    after,
  });
  expect(failures).toEqual([]);
  expect(after.fds).toBeLessThanOrEqual(before.fds + 8);
});

// Spare fds above what the service holds: one (the first error the process ever answers comes with no fd
// left to read anything it would load lazily: it once hung every call for 30 s), then a dozen (the
// sessions get partway, holding files and Docker connections, before the limit is reached).
it.each([1, 12])(
  'when fds run out (%i spare), new sessions get RESOURCE_EXHAUSTED (never INTERNAL, UNKNOWN or a hang), and the service recovers',
  async (spare) => {
    const before = processUsage(s.pid());
    // Leave the service only a few fds above what it holds now, then ask for many sessions at once, each
    // holding its files and Docker connections open (a live process with stdin open).
    const tight = Math.min(before.fds + spare, NOFILE);
    limitFds(s.pid(), tight);
    const outcomes: Record<string, number> = {};
    const details: Record<string, string> = {};
    const reasons = new Set<string | undefined>();
    const start = encodeRequest('Session', { start: { image: BASE_IMAGE, command: ['sleep', '30'], open_stdin: true } });
    // One channel, connected before: new connections would need fds too (the kernel queues them).
    await s.raw.health();
    const results = await Promise.all(Array.from({ length: CONCURRENT }, () => s.raw.session([start], undefined, 30_000)));
    for (const r of results) {
      tally(outcomes, r.outcome);
      if (r.outcome !== 'READY') details[r.outcome] ??= r.details.slice(0, 300);
      if (r.outcome === 'RESOURCE_EXHAUSTED') reasons.add(r.reason);
    }
    // The fds the refused sessions let go, taken by connections the service accepts until it has none.
    const held = await idleConnections(Number(s.svc.address.split(':')[1]), tight);
    let aliveUnderLimit: boolean;
    let fdsHeld = -1;
    try {
      await sleep(HOLD_MS);
      aliveUnderLimit = alive(s.pid());
      if (aliveUnderLimit) fdsHeld = processUsage(s.pid()).fds;
    } finally {
      closeAll(held);
      if (alive(s.pid())) limitFds(s.pid(), NOFILE);
    }
    const aliveAfter = alive(s.pid());
    // The sleeping sessions end when their containers (this test's own) are removed.
    const mine = results.map((r) => r.ready?.container_id).filter((id): id is string => !!id);
    if (mine.length) execFileSync('docker', ['rm', '-f', '-v', ...mine], { stdio: 'ignore' });
    let probe = { alive: false, exact: false, exitCode: -1 };
    await waitFor(async () => (probe = await probeSession(s).catch(() => probe)).exact, 30_000);
    recordFigures('fd-exhaustion', {
      nofile: NOFILE,
      spare,
      tightLimit: tight,
      fdsBefore: before.fds,
      concurrent: CONCURRENT,
      outcomes,
      details,
      fdsHeld,
      aliveUnderLimit,
      aliveAfter,
      probe,
    });
    expect(aliveUnderLimit).toBe(true);
    expect(fdsHeld).toBeGreaterThanOrEqual(tight); // every fd under the limit was taken (older ones may sit above it)
    expect(outcomes.RESOURCE_EXHAUSTED).toBeGreaterThan(0); // the limit was really reached
    expect(Object.keys(outcomes).filter((k) => k !== 'READY' && k !== 'RESOURCE_EXHAUSTED')).toEqual([]);
    // docs/PROTOCOL.md, "Errors" (the row test/error-details.e2e-spec.ts leaves to this file).
    expect([...reasons]).toEqual(['FILE_DESCRIPTORS_EXHAUSTED']);
    expect(aliveAfter).toBe(true);
    expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  },
);
