import { status, type ServiceError } from '@grpc/grpc-js';
import { readdirSync } from 'node:fs';
import { buildService, childService, type ChildService } from './support/child-service';
import { sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';

/**
 * File descriptors (issue 8, item 11): a finished session holds none (its files are opened on demand
 * for a reader and closed after), so the service's fds stay flat however many sessions it keeps, and
 * a service with a low fd limit serves far more sessions than it could hold open at once.
 */
jest.setTimeout(170_000);

const openFds = (svc: ChildService) => readdirSync(`/proc/${svc.proc!.pid}/fd`).length;

/** Runs `count` short sessions, `parallel` at a time; returns each one's session id and output. */
async function runMany(svc: ChildService, count: number, parallel = 4) {
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

let svc: ChildService | undefined;
beforeAll(() => buildService());
afterEach(async () => {
  await svc?.dispose();
  svc = undefined;
});

describe('file descriptors of finished sessions', () => {
  it('stay near the starting count over 120 sessions (none held per finished session)', async () => {
    svc = await childService();
    await svc.start();
    await runMany(svc, 4); // warm up: Docker and gRPC connections are open
    const before = openFds(svc);
    const runs = await runMany(svc, 120);
    expect(runs.every((r) => r.exitCode === 0)).toBe(true);
    const after = openFds(svc);
    process.stderr.write(`[fds] before ${before}, after 120 sessions ${after}\n`);
    expect(after).toBeLessThanOrEqual(before + 15);
  });

  it('under `prlimit --nofile=128`, 200 sessions all work and the oldest replays byte-exact', async () => {
    svc = await childService({}, { nofile: 128 });
    await svc.start();
    const limits = readdirSync(`/proc/${svc.proc!.pid}/fd`).length;
    expect(limits).toBeLessThan(128);
    const runs = await runMany(svc, 200);
    expect(runs.filter((r) => r.exitCode !== 0)).toEqual([]);
    const first = runs[0];
    expect(first.stdout.subarray(0, 10).toString()).toBe('session 0\n');
    const replay = await svc.client.attach({ sessionId: first.sessionId }).collect();
    expect(sha256(replay.stdout)).toBe(sha256(first.stdout));
    expect(replay.exitCode).toBe(0);
  });

  it('running out of descriptors is RESOURCE_EXHAUSTED saying so, and the service serves again afterwards', async () => {
    svc = await childService({ EXEC_MAX_SESSIONS: '200' }, { nofile: 128 });
    await svc.start();
    // Each running session holds its three files and Docker connections: 60 at once cannot fit.
    const calls = Array.from({ length: 60 }, () =>
      svc!.client
        .run(BASE_IMAGE, { command: ['sleep', '3'] })
        .collect()
        .then(
          (r) => ({ code: status.OK, details: `exit ${r.exitCode}` }),
          (err: ServiceError) => ({ code: err.code, details: err.details }),
        ),
    );
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((o) => o.code !== status.OK);
    const exhausted = failed.filter((o) => o.code === status.RESOURCE_EXHAUSTED).length;
    process.stderr.write(
      `[fds] 60 at once under 128 fds: ${outcomes.length - failed.length} ran, ${exhausted} RESOURCE_EXHAUSTED, other failures ${JSON.stringify([...new Set(failed.map((f) => `${f.code} ${f.details}`))].filter((t) => !t.startsWith('8 ')).slice(0, 5))}\n`,
    );
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(f.details).toMatch(/file descriptors/);
    }
    const after = await runMany(svc, 5);
    expect(after.every((r) => r.exitCode === 0)).toBe(true);
  });
});
