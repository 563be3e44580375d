import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildService } from '../support/child-service';
import { BASE_IMAGE } from '../support/server';
import { alive, recordFigures } from './support/figures';
import { encodeRequest } from './support/raw-rpc';
import { probeSession, serviceUnderTest, waitFor, type ServiceUnderTest } from './support/service';

/**
 * The data disk: a tmpfs of this size, all of it but LEFT_KIB taken by a ballast file the test can free
 * (less than the health probe's 64 KiB: removing the sessions' files, as the service does when short of
 * room, cannot make it writable again).
 */
const DISK_MIB = 16;
const LEFT_KIB = 32;

let mount: string;
let s: ServiceUnderTest;
beforeAll(async () => {
  buildService();
  mount = mkdtempSync(join(tmpdir(), 'exec-stream-fulldisk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MIB}m`, 'tmpfs', mount]);
  s = await serviceUnderTest({ EXEC_DATA_DIR: join(mount, 'data') });
}, 120_000);
afterAll(async () => {
  await s?.dispose();
  execFileSync('umount', [mount]);
  rmSync(mount, { recursive: true, force: true });
});

it('a full data disk: RESOURCE_EXHAUSTED naming the data directory, health NOT_SERVING, recovery once space is freed', async () => {
  const dataDir = join(mount, 'data');
  const ballast = join(mount, 'ballast');
  const free = () => {
    const st = statfsSync(mount);
    return st.bavail * st.bsize;
  };
  // Serving while the disk has room; read before the ballast goes in: the probe (every second) may see
  // the full disk at any moment after that.
  const healthBefore = await s.raw.health();
  writeFileSync(ballast, Buffer.alloc(free() - LEFT_KIB * 1024, 1));
  const ballastBytes = DISK_MIB * 1024 * 1024 - free();
  // A session whose output (8 MiB) does not fit in what is left.
  const filler = s.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 8388608 /dev/zero; exit 0'] });
  let fillerCode: number | undefined;
  let fillerReason: string | undefined;
  let fillerDetails = '';
  let fillerExit: number | undefined;
  try {
    fillerExit = await filler.wait();
  } catch (err) {
    fillerCode = (err as { code?: number }).code;
    fillerReason = (err as { reason?: string }).reason;
    fillerDetails = (err as { details?: string }).details ?? '';
  }
  const notServing = await waitFor(async () => (await s.raw.health()) === 'NOT_SERVING', 10_000);
  const next = await s.raw.session([encodeRequest('Session', { start: { image: BASE_IMAGE, command: ['echo', 'hi'] } })]);
  rmSync(ballast);
  const servingAgain = await waitFor(async () => (await s.raw.health()) === 'SERVING', 15_000);
  const probe = await probeSession(s);
  recordFigures('full-disk', {
    diskMiB: DISK_MIB,
    ballastMiB: +(ballastBytes / 1024 / 1024).toFixed(2),
    healthBefore,
    filler: { exitCode: fillerExit, code: fillerCode, details: fillerDetails.slice(0, 300) },
    notServing,
    nextSession: { outcome: next.outcome, details: next.details.slice(0, 300) },
    servingAgain,
    probe,
    aliveAfter: alive(s.pid()),
  });
  expect(healthBefore).toBe('SERVING');
  expect(fillerExit).toBeUndefined(); // never a made-up exit 0 for output that was not kept
  expect(fillerCode).toBe(8); // RESOURCE_EXHAUSTED
  expect(fillerReason).toBe('DATA_DIR_FULL'); // docs/PROTOCOL.md, "Errors" (the row test/error-details.e2e-spec.ts leaves to this file)
  expect(fillerDetails).toContain(dataDir);
  expect(notServing).toBe(true);
  expect(next.outcome).toBe('RESOURCE_EXHAUSTED');
  expect(next.reason).toBe('DATA_DIR_FULL');
  expect(next.details).toContain(dataDir);
  expect(servingAgain).toBe(true);
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
});
