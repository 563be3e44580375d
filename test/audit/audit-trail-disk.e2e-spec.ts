// The audit trail on a full disk (issue 28; docs/AUDIT.md, "Limits"): EXEC_DATA_DIR/audit on a 1 MiB
// tmpfs of its own, as an operator gives the trail a volume of its own, the sessions' files on another.
// Once the trail's disk is full, calls it must record are refused RESOURCE_EXHAUSTED with reason
// AUDIT_TRAIL_FULL naming the trail, health is NOT_SERVING and the log says why, while a session already
// running goes on to its exit code with every byte; once there is room again (the trail retries every
// second) health is SERVING by itself, a session runs byte-exact, and `audit verify` finds the chain whole.
import { status as Code, credentials, makeClientConstructor, type Client } from '@grpc/grpc-js';
import { ExecError, toExecError } from '@exec-stream/client';
import { service as healthService } from 'grpc-health-check';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildService, childService, type ChildService } from '../support/child-service';
import { buildCli, cliEnv, runCli } from '../support/cli';
import { sha256, sleep } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';

jest.setTimeout(120_000);

let dataDir: string;
let trailDir: string;
let svc: ChildService;
let health: Client & { check(req: { service: string }, cb: (err: Error | null, res?: { status: string }) => void): void };

const healthOf = () => new Promise<string>((resolve, reject) => health.check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res!.status))));

/** Polls (bounded, 10 s) until health is `want`; returns the last status seen. */
async function healthBecomes(want: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 100 && last !== want; i++) {
    last = await healthOf();
    if (last !== want) await sleep(100);
  }
  return last;
}

beforeAll(async () => {
  buildService();
  buildCli();
  dataDir = mkdtempSync(join(tmpdir(), 'exec-stream-trail-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dataDir]);
  trailDir = join(dataDir, 'audit');
  mkdirSync(trailDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', trailDir]);
  // Small segments: the room the trail keeps ahead (a quarter of a segment) is used up in a few events.
  svc = await childService({ EXEC_AUDIT: 'on', EXEC_AUDIT_SEGMENT_BYTES: '16384' }, { dataDir });
  await svc.start();
  const Health = makeClientConstructor(healthService, 'grpc.health.v1.Health');
  health = new Health(svc.address, credentials.createInsecure()) as unknown as typeof health;
});

afterAll(async () => {
  health?.close();
  // The trail's mount goes before dispose empties the data directory (a mount point cannot be removed).
  await svc?.stop('SIGKILL').catch(() => undefined);
  if (trailDir) execFileSync('umount', [trailDir]);
  await svc?.dispose();
  if (dataDir) execFileSync('umount', [dataDir]);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('a full trail disk refuses the calls it records (AUDIT_TRAIL_FULL, health NOT_SERVING), a running session goes on, and it recovers once there is room', async () => {
  expect(await healthBecomes('SERVING')).toBe('SERVING');
  // Already running when the disk fills: 40 lines over about 4 s, then exit 7.
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join('');
  const running = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done; exit 7'] });
  const runningResult = running.collect();
  await running.ready;

  const filler = join(trailDir, 'filler');
  try {
    for (;;) appendFileSync(filler, Buffer.alloc(4096));
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }

  // What the trail still holds of its room takes a few more events; then every recorded call is refused.
  let refused: ExecError | undefined;
  let answered = 0;
  for (let i = 0; i < 40 && !refused; i++) {
    try {
      const r = await svc.client.run(BASE_IMAGE, { command: ['echo', `call ${i}`] }).collect();
      expect(r.stdout.toString()).toBe(`call ${i}\n`);
      answered++;
    } catch (e) {
      refused = toExecError(e) as ExecError;
    }
  }
  expect(refused).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, reason: 'AUDIT_TRAIL_FULL' });
  expect(refused!.details).toContain(`the audit trail ${trailDir} cannot be written: its disk is full (ENOSPC)`);
  expect(answered).toBeLessThan(40);
  expect(await healthBecomes('NOT_SERVING')).toBe('NOT_SERVING');
  expect(svc.logs.some((l) => l.msg === 'the audit trail cannot be written: calls it records are refused' && String(l.err).includes('ENOSPC'))).toBe(true);
  // Another recorded call meets the same standing refusal.
  const again = await svc.client
    .run(BASE_IMAGE, { command: ['true'] })
    .collect()
    .then(
      () => undefined,
      (e: unknown) => toExecError(e) as ExecError,
    );
  expect(again).toMatchObject({ code: Code.RESOURCE_EXHAUSTED, reason: 'AUDIT_TRAIL_FULL' });

  // The session that was running goes on: every byte, its own exit code.
  const r = await runningResult;
  expect({ exitCode: r.exitCode, stdout: sha256(r.stdout) }).toEqual({ exitCode: 7, stdout: sha256(Buffer.from(lines)) });

  // Room again: the trail notices within its 1 s retry, health recovers by itself, sessions run.
  rmSync(filler);
  expect(await healthBecomes('SERVING')).toBe('SERVING');
  const ok = await svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'head -c 300000 /dev/urandom > /tmp/f; cat /tmp/f; sha256sum /tmp/f >&2'] }).collect();
  expect(ok.exitCode).toBe(0);
  expect(ok.stderr.toString().split(' ')[0]).toBe(sha256(ok.stdout));

  // The events that could not be written are not in the trail, and the chain has no break.
  const verified = await runCli(['audit', 'verify', trailDir], cliEnv());
  expect({ code: verified.code, stderr: verified.stderr.toString() }).toEqual({ code: 0, stderr: '' });
});
