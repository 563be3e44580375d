import type { ServiceError } from '@grpc/grpc-js';
import { ControlClient, GRPCConnectionManager } from '@exec-stream/client';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildService } from '../support/child-service';
import { sha256 } from '../support/helpers';
import { TcpProxy } from '../support/tcp-proxy';
import { BASE_IMAGE } from '../support/server';
import { alive, recordFigures, tally } from './support/figures';
import { probeSession, serviceUnderTest, TOKEN, waitFor, type ServiceUnderTest } from './support/service';

const MiB = 1024 * 1024;

/** A tmpfs of `mib` MiB for the data directory (unmounted by the returned function). */
function smallDisk(mib: number): { mount: string; dataDir: string; unmount: () => void } {
  const mount = mkdtempSync(join(tmpdir(), 'exec-stream-runaway-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', mount]);
  return {
    mount,
    dataDir: join(mount, 'data'),
    unmount: () => {
      execFileSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    },
  };
}

/** Bytes free on the file system of `path`. */
const freeBytes = (path: string) => {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
};

/** A session's end: its exit code and output, or the error status it ended with. */
async function ending(session: ReturnType<ServiceUnderTest['client']['run']>) {
  try {
    const r = await session.collect();
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, reason: session.outcome?.reason, message: session.outcome?.message };
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details?.slice(0, 300), stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), reason: session.outcome?.reason };
  }
}

/** Health (service '') every 100 ms until stopped: the states seen, in order, without repeats. */
function watchHealth(s: ServiceUnderTest): { stop: () => Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const h = await s.raw.health().catch((e: Error) => `error ${e.message}`);
      if (seen[seen.length - 1] !== h) seen.push(h);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

// The log driver `none`: Docker 20.10's `local` driver holds a kill of a container writing at full speed
// for ~10 s (the runaway's output meanwhile is dropped either way), which only slows the scenario.
const ENV = { EXEC_CONTAINER_LOG_DRIVER: 'none' };

beforeAll(() => buildService(), 120_000);

describe('a runaway session', () => {
  let disk: ReturnType<typeof smallDisk>;
  let s: ServiceUnderTest;
  beforeAll(async () => {
    disk = smallDisk(32);
    s = await serviceUnderTest({ ...ENV, EXEC_DATA_DIR: disk.dataDir });
  }, 60_000);
  afterAll(async () => {
    await s?.dispose();
    disk?.unmount();
  });

  it('beside a well-behaved one, on a 32 MiB data disk with finished sessions, one read by a stalled client: the runaway ends output_limit at the derived limit, the other byte-exact with its code, the stalled reader is told, health stays SERVING', async () => {
    const fsBytes = statfsSync(disk.mount).blocks * statfsSync(disk.mount).bsize;
    const limit = Math.floor(fsBytes / 4); // the derived default: a quarter of the file system (EXEC_RETENTION_BYTES is larger)
    // Three finished sessions of 6 MiB; a client attaches to the oldest and stops reading after Ready.
    const finished: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = s.client.run(BASE_IMAGE, { command: ['sh', '-c', `head -c ${6 * MiB} /dev/zero`] });
      finished.push((await f.ready).sessionId);
      expect((await f.collect()).stdout.length).toBe(6 * MiB);
    }
    // A client behind a proxy that stops passing the service's bytes on: it attaches to the oldest
    // finished session and, to the service, reads nothing from then on.
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(s.svc.address.split(':')[1]) });
    const stalledConnection = new GRPCConnectionManager({ address: await proxy.listen(), token: TOKEN });
    const stalledClient = stalledConnection.getClient();
    await new Promise((resolve) => stalledClient.waitForReady(Date.now() + 10_000, resolve));
    proxy.freeze();
    const stalled = stalledClient.Session(stalledConnection.getMetadata());
    let readBytes = 0;
    const stalledEnd = new Promise<string>((resolve) => {
      stalled.on('data', (m: { stdout?: Buffer }) => (readBytes += m.stdout?.length ?? 0));
      stalled.on('error', (e: ServiceError) => resolve(`${e.code}: ${e.details}`));
      stalled.on('end', () => resolve('OK'));
    });
    stalled.write({ start: { session_id: finished[0] } });
    const control = new ControlClient(s.connection);
    await waitFor(
      async () => (await control.listSessions({ limit: 100 })).sessions?.some((x) => x.session_id === finished[0] && x.clients_attached === 1) ?? false,
      10_000,
    );
    const freeBefore = freeBytes(disk.mount);
    const health = watchHealth(s);

    // The well-behaved one writes 2 MiB of random bytes over ~2 s, then their sha256 on stderr, and exits 3.
    const good = s.client.run(BASE_IMAGE, {
      command: [
        'sh',
        '-c',
        'head -c 2097152 /dev/urandom > /tmp/f; for i in 0 1 2 3 4 5 6 7; do dd if=/tmp/f bs=262144 skip=$i count=1 2>/dev/null; sleep 0.25; done; sha256sum /tmp/f >&2; exit 3',
      ],
    });
    const runaway = s.client.run(BASE_IMAGE, { command: ['sh', '-c', 'cat /dev/zero'] });
    const [g, r] = await Promise.all([ending(good), ending(runaway)]);
    // The stalled client reads on: what it had, then the status saying why it ends.
    proxy.thaw();
    const told = await stalledEnd;
    stalledConnection.close();
    await proxy.close();
    const servingAfter = await waitFor(async () => (await s.raw.health()) === 'SERVING', 10_000);
    const healthSeen = await health.stop();
    const listed = await control.listSessions({ limit: 100 });
    const kept: Record<string, number> = {};
    for (const info of listed.sessions ?? []) tally(kept, finished.includes(String(info.session_id)) ? 'finished before' : 'the two');
    const probe = await probeSession(s);
    recordFigures('runaway-beside-well-behaved', {
      diskMiB: 32,
      derivedLimitBytes: limit,
      freeBeforeMiB: +(freeBefore / MiB).toFixed(1),
      runaway: { ...r, stdout: undefined, stderr: undefined, bytes: r.stdout.length },
      wellBehaved: { ...g, stdout: undefined, stderr: undefined, bytes: g.stdout.length, exact: g.stderr.toString().split(' ')[0] === sha256(g.stdout) },
      stalledReader: { readBytes, told: told.slice(0, 400) },
      sessionsKept: kept,
      healthSeen,
      servingAfter,
      probe,
      aliveAfter: alive(s.pid()),
    });
    expect({ exitCode: r.exitCode, bytes: r.stdout.length, reason: r.reason }).toEqual({ exitCode: 137, bytes: limit, reason: 'output_limit' });
    expect({ exitCode: g.exitCode, bytes: g.stdout.length, reason: g.reason }).toEqual({ exitCode: 3, bytes: 2 * MiB, reason: 'exited' });
    expect(g.stderr.toString().split(' ')[0]).toBe(sha256(g.stdout));
    // (The session id as the client sent it, quoted cut short: a caller's value is never echoed in full.)
    expect(told).toMatch(/^8: session "[^"]+…" \(\d+ bytes\)'s output was removed while this client read it: .*EXEC_DATA_RESERVE_BYTES/);
    expect(healthSeen).toEqual(['SERVING']);
    expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  });
});

describe('a data disk filled from outside', () => {
  let disk: ReturnType<typeof smallDisk>;
  let s: ServiceUnderTest;
  beforeAll(async () => {
    disk = smallDisk(16);
    s = await serviceUnderTest({ ...ENV, EXEC_DATA_DIR: disk.dataDir });
  }, 60_000);
  afterAll(async () => {
    await s?.dispose();
    disk?.unmount();
  });

  it('a runaway that meets the full disk ends RESOURCE_EXHAUSTED naming it; health turns NOT_SERVING and recovers on its own (its files go first), the ballast untouched', async () => {
    // Ballast leaves 3 MiB: less than the runaway's limit (a quarter of 16 MiB).
    const ballast = join(disk.mount, 'ballast');
    writeFileSync(ballast, Buffer.alloc(freeBytes(disk.mount) - 3 * MiB, 1));
    const health = watchHealth(s);
    const runaway = s.client.run(BASE_IMAGE, { command: ['sh', '-c', 'cat /dev/zero'] });
    const sessionId = (await runaway.ready).sessionId;
    const err = await runaway.collect().then(
      () => undefined,
      (e: ServiceError) => e,
    );
    const servingAgain = await waitFor(async () => (await s.raw.health()) === 'SERVING', 15_000);
    const healthSeen = await health.stop();
    const later = await s.client
      .attach({ sessionId })
      .collect()
      .then(
        () => 'OK',
        (e: ServiceError) => `${e.code}`,
      );
    const probe = await probeSession(s);
    recordFigures('runaway-full-disk-recovers', {
      diskMiB: 16,
      runaway: { code: err?.code, details: err?.details.slice(0, 300) },
      healthSeen,
      servingAgain,
      laterAttach: later,
      ballastStillThere: freeBytes(disk.mount) < 8 * MiB,
      probe,
    });
    expect(err?.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(err?.details).toContain(`the data directory ${disk.dataDir} (EXEC_DATA_DIR) is full`);
    expect(healthSeen).toContain('NOT_SERVING');
    expect(servingAgain).toBe(true);
    expect(later).toBe('5'); // NOT_FOUND: its files were removed to make room
    expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  });
});
