import { credentials, makeClientConstructor, status, type Client } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { service as healthService } from 'grpc-health-check';
import { buildService, childService, type ChildService } from './support/child-service';
import { docker, grpcError, sha256, sleep } from './support/helpers';
import { BASE_IMAGE } from './support/server';

/**
 * A full data disk (issue 8, item 10; issue 23, item 7): EXEC_DATA_DIR on a 4 MiB tmpfs. A run whose
 * output does not fit → RESOURCE_EXHAUSTED naming the directory, its container killed and removed; its
 * files, a finished session's, go to make room and health recovers by itself. A disk full of what the
 * service cannot remove: health NOT_SERVING, later Starts → the same; once space is freed, SERVING
 * again and a session works byte-exact.
 */
const MiB = 1024 * 1024;
let mountPoint: string;
let svc: ChildService;
let health: Client & { check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void };

const healthOf = (service: string) =>
  new Promise<string>((resolve, reject) => health.check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))));

/** Polls (bounded) until `service`'s health is `want`. */
async function healthBecomes(want: string, service = ''): Promise<string> {
  let last = '';
  for (let i = 0; i < 100 && last !== want; i++) {
    last = await healthOf(service);
    if (last !== want) await sleep(100);
  }
  return last;
}

beforeAll(async () => {
  buildService();
  mountPoint = mkdtempSync(join(tmpdir(), 'exec-stream-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  // EXEC_REMOVE_CONTAINERS=false: the container of a run whose output is lost must go all the same.
  // An output limit larger than the disk: the run meets the full disk, not its limit.
  // The audit trail off: its files, open for writing, would keep the tmpfs from being remounted read-only
  // (the trail's own limits are docs/AUDIT.md's).
  svc = await childService({ EXEC_REMOVE_CONTAINERS: 'false', EXEC_SESSION_OUTPUT_BYTES: String(64 * MiB), EXEC_AUDIT: 'off' }, { dataDir: mountPoint });
  await svc.start();
  const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
  health = new Health(svc.address, credentials.createInsecure()) as unknown as typeof health;
});

afterAll(async () => {
  health?.close();
  await svc?.dispose();
  execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe('a full data disk', () => {
  jest.setTimeout(90_000);
  it('is RESOURCE_EXHAUSTED naming EXEC_DATA_DIR, kills the run, turns health NOT_SERVING, and recovers once space is freed', async () => {
    expect(await healthOf('')).toBe('SERVING');
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(3 * MiB)); // about 1 MiB left for sessions

    // 2 MiB of output, then it would sleep for ever: the process must not run on unobserved.
    const run = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 2097152 /dev/zero; sleep 600'] });
    const { sessionId, containerId } = await run.ready;
    const err = await grpcError(run.collect());
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toContain(`the data directory ${mountPoint} (EXEC_DATA_DIR) is full (ENOSPC)`);

    let left = docker('ps', '-aq', '--filter', `label=exec-stream.session=${sessionId}`);
    for (let i = 0; i < 100 && left; i++) {
      await sleep(100);
      left = docker('ps', '-aq', '--filter', `label=exec-stream.session=${sessionId}`);
    }
    expect({ containerId, left }).toEqual({ containerId, left: '' });

    // Short of room, a finished session's files go (its later clients get NOT_FOUND), and health
    // recovers by itself, the filler still there.
    let again = '';
    for (let i = 0; i < 100 && again !== 'NOT_FOUND'; i++) {
      again = await grpcError(svc.client.attach({ sessionId }).collect()).then((e) => status[e.code]);
      if (again !== 'NOT_FOUND') await sleep(100);
    }
    expect(again).toBe('NOT_FOUND');
    expect(await healthBecomes('SERVING')).toBe('SERVING');

    // A disk full of what the service cannot remove: NOT_SERVING until space is freed, new sessions refused.
    const rest = join(mountPoint, 'rest');
    try {
      for (;;) appendFileSync(rest, Buffer.alloc(64 * 1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    expect(await healthBecomes('NOT_SERVING')).toBe('NOT_SERVING');
    expect(await healthOf('dagger.exec.Exec')).toBe('NOT_SERVING');
    const next = await grpcError(svc.client.run(BASE_IMAGE, { command: ['echo', 'hi'] }).collect());
    expect(next.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(next.details).toContain(`the data directory ${mountPoint} (EXEC_DATA_DIR) is full`);

    rmSync(rest);
    rmSync(filler);
    expect(await healthBecomes('SERVING')).toBe('SERVING');
    expect(await healthOf('dagger.exec.Exec')).toBe('SERVING');
    const ok = await svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 600000 /dev/urandom > /tmp/f; cat /tmp/f; sha256sum /tmp/f >&2'] }).collect();
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout.length).toBe(600_000);
    expect(ok.stderr.toString().split(' ')[0]).toBe(sha256(ok.stdout));
  });

  it("kills an exec's process whose output cannot be written; a read-only data directory counts the same (NOT_SERVING, new sessions UNAVAILABLE)", async () => {
    const main = svc.client.run(BASE_IMAGE, { command: ['sleep', '600'] });
    const { containerId } = await main.ready;
    const filler = join(mountPoint, 'filler');
    // All but 256 KiB of what is free now (the sessions of the test above hold some of the 4 MiB).
    const free = statfsSync(mountPoint);
    writeFileSync(filler, Buffer.alloc(free.bavail * free.bsize - 256 * 1024));
    const exec = svc.client.exec(containerId, { command: ['sh', '-c', 'head -c 2097152 /dev/zero; exec sleep 777'] });
    expect((await grpcError(exec.collect())).code).toBe(status.RESOURCE_EXHAUSTED);
    // The exec's process is killed (SIGKILL through exec signalling); the container and its main process go on.
    let ps = docker('exec', containerId, 'ps', '-o', 'args');
    for (let i = 0; i < 100 && ps.includes('sleep 777'); i++) {
      await sleep(100);
      ps = docker('exec', containerId, 'ps', '-o', 'args');
    }
    expect(ps).not.toContain('sleep 777');
    expect(ps).toContain('sleep 600');
    rmSync(filler);
    expect(await healthBecomes('SERVING')).toBe('SERVING');
    // No session file open for writing (a running session's would keep the mount busy): end the run first.
    docker('rm', '-f', containerId);
    await main.wait().catch(() => undefined);

    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    try {
      expect(await healthBecomes('NOT_SERVING')).toBe('NOT_SERVING');
      const refused = await grpcError(svc.client.run(BASE_IMAGE, { command: ['true'] }).collect());
      expect({ code: status[refused.code], details: refused.details }).toEqual({ code: 'UNAVAILABLE', details: expect.stringMatching(/EROFS/) });
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
    expect(await healthBecomes('SERVING')).toBe('SERVING');
  });
});

describe('EXEC_DATA_DIR naming a file, not a directory', () => {
  it('start-up ends with exit code 1 and one fatal line naming the path and ENOTDIR (no error from what it never opened)', async () => {
    buildService();
    const dir = mkdtempSync(join(tmpdir(), 'exec-stream-not-a-dir-'));
    const file = join(dir, 'data');
    writeFileSync(file, 'not a directory');
    const svc = await childService({ EXEC_DATA_DIR: file });
    try {
      await expect(svc.start()).rejects.toThrow(/exited before listening \(code 1,/);
      const bad = svc.logs.filter((l) => (l.level as number) >= 50);
      expect(bad.map((l) => [l.msg, l.dataDir])).toEqual([['cannot start', file]]);
      expect(bad[0].err).toMatch(/ENOTDIR: not a directory, mkdir '.*\/data\/audit'/);
    } finally {
      await svc.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
