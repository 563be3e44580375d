import { status as Code, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ControlClient, FileClient } from '@exec-stream/client';
import { TarFraming, type TarEntryHeader } from '@exec-stream/client/wire';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildService } from '../support/child-service';
import { dockerAsync } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';
import { smallTar, tarHeader, TarDigest } from '../support/tar';
import { alive, processUsage, recordFigures, tally } from './support/figures';
import { probeSession, serviceUnderTest, TOKEN, waitFor, type ServiceUnderTest } from './support/service';

/** A short progress window (so slow clients end in seconds) and 32 MiB unpacked per CopyTo. */
const WINDOW_MS = 2000;
const MAX_BYTES = 32 << 20;
const SHRINK_BYTES = 4 << 20;
/** Copies of the shrinking file: at least the first, until the second number of them met it shrinking (or the third copies). */
const SHRINK_COPIES = { least: 12, aborted: 3, most: 40 };
const DRIPPERS = 2;

let s: ServiceUnderTest;
let files: FileClient;
let containerId: string;
beforeAll(async () => {
  buildService();
  s = await serviceUnderTest({ EXEC_COPY_STALL_MS: String(WINDOW_MS), EXEC_COPY_MAX_BYTES: String(MAX_BYTES) });
  files = new FileClient(s.connection);
  // The container rewrites /tmp/f from /tmp/src without end: `cat` truncates it, then writes it again.
  const run = s.client.run(BASE_IMAGE, {
    command: ['sh', '-c', `head -c ${SHRINK_BYTES} /dev/urandom > /tmp/src; mkdir /tmp/in; echo ready; while :; do cat /tmp/src > /tmp/f; done`],
  });
  containerId = (await run.ready).containerId;
  const it = run.output()[Symbol.asyncIterator]();
  await it.next(); // "ready"
}, 120_000);
afterAll(async () => {
  if (containerId) await dockerAsync('rm', '-f', containerId).catch(() => undefined);
  await s?.dispose();
});

/** Runs `script` in the container; its stdout. */
async function inContainer(script: string): Promise<string> {
  const r = await s.client.exec(containerId, { command: ['sh', '-c', script] }).collect();
  if (r.exitCode !== 0) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** A copy's outcome as a code name (OK or the gRPC status). */
const codeOf = (err: unknown) => Code[(err as ServiceError).code] ?? `not a gRPC error: ${String(err)}`;

it('a file rewritten without end while it is copied out: every copy is byte-exact for what its header says, or ABORTED naming the entry; never OK and short', async () => {
  const fds = processUsage(s.pid()).fds;
  // The source's content: the one entry of its archive (its content ends its blocks, padding aside).
  const src = await files.copyFrom(containerId, '/tmp/src');
  const content: Buffer[] = [];
  for await (const chunk of src.tar) content.push(chunk as Buffer);
  const archive = Buffer.concat(content);
  const entries: TarEntryHeader[] = [];
  new TarFraming((e) => entries.push(e)).push(archive);
  const at = entries[0].end - Math.ceil(SHRINK_BYTES / 512) * 512;
  const source = archive.subarray(at, at + SHRINK_BYTES);
  expect({ entries: entries.length, size: entries[0].size }).toEqual({ entries: 1, size: SHRINK_BYTES });
  const outcomes: Record<string, number> = {};
  const shortBytes: number[] = [];
  const wrong: string[] = [];
  const started = Date.now();
  let copies = 0;
  for (let i = 0; i < SHRINK_COPIES.most && (i < SHRINK_COPIES.least || (outcomes.ABORTED ?? 0) < SHRINK_COPIES.aborted); i++) {
    copies++;
    try {
      const { tar } = await files.copyFrom(containerId, '/tmp/f');
      const d = new TarDigest();
      let got = 0;
      for await (const chunk of tar) {
        got += (chunk as Buffer).length;
        d.write(chunk);
      }
      await new Promise((r) => d.end(r));
      const e = d.entries[0];
      const expected = createHash('sha256').update(source.subarray(0, e.size)).digest('hex');
      if (d.entries.length !== 1 || e.sha256 !== expected) wrong.push(`#${i}: ${JSON.stringify(d.entries)} after ${got} bytes`);
      tally(outcomes, e.size === SHRINK_BYTES ? 'OK, whole file' : 'OK, the size its header said');
    } catch (err) {
      const details = (err as ServiceError).details ?? '';
      tally(outcomes, codeOf(err));
      const m = /ended after (\d+) of its/.exec(details);
      if (m) shortBytes.push(Number(m[1]));
      if (codeOf(err) !== 'ABORTED' || !/entry "f" ended after \d+ of its \d+ bytes/.test(details))
        wrong.push(`#${i}: ${codeOf(err)} ${details.slice(0, 200)}`);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  recordFigures('copy-shrinking-file', {
    fileBytes: SHRINK_BYTES,
    copies,
    outcomes,
    shortEntryBytes: shortBytes.length ? { min: Math.min(...shortBytes), max: Math.max(...shortBytes) } : undefined,
    wrong: wrong.slice(0, 5),
    seconds,
    fds: { before: fds, after: processUsage(s.pid()).fds },
  });
  expect(wrong).toEqual([]);
  expect(outcomes.ABORTED).toBeGreaterThan(0); // the attack happened: some copies met a shrinking file
});

it('clients that drip empty messages and single bytes are ended ABORTED naming the minimum rate; meanwhile the container answers UNAVAILABLE at once; hostile archives are refused; nothing partial is left', async () => {
  const control = new ControlClient(s.connection);
  const raw = s.connection.getClient();
  const metadata = () => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${TOKEN}`);
    return m;
  };
  const timers: NodeJS.Timeout[] = [];
  const started = Date.now();
  const drips = Array.from(
    { length: DRIPPERS },
    (_, i) =>
      new Promise<{ code: string; details: string; seconds: number }>((resolve) => {
        const t0 = Date.now();
        const call = raw.CopyTo(metadata(), (err: ServiceError | null) =>
          resolve({ code: err ? Code[err.code] : 'OK', details: err?.details ?? '', seconds: (Date.now() - t0) / 1000 }),
        );
        call.write({ header: { container_id: containerId, path: '/tmp/in' } });
        call.write({ tar: tarHeader(`drip-${i}`, 1 << 20) });
        let n = 0;
        timers.push(setInterval(() => call.write({ tar: n++ % 2 ? Buffer.from('x') : Buffer.alloc(0) }), 200));
      }),
  );
  // While one of them holds the container: status is UNAVAILABLE at once, naming the copy.
  const statusAnswers: Record<string, number> = {};
  let slowestStatusMs = 0;
  const busyDetails: string[] = [];
  let dripping = true;
  const poll = async () => {
    const t = Date.now();
    await control.status(containerId).then(
      () => tally(statusAnswers, 'OK'),
      (e: ServiceError) => {
        tally(statusAnswers, codeOf(e));
        if (/is busy: Docker holds its lock while a CopyTo/.test(e.details)) busyDetails.push(e.details);
      },
    );
    slowestStatusMs = Math.max(slowestStatusMs, Date.now() - t);
  };
  const polling = (async () => {
    // One every 300 ms for as long as a dripper holds the container (they end within their windows), each
    // on its own: one sent before the service had registered the copies reaches Docker, which holds it on
    // the container's lock until a copy ends, and must not hold back the polls after it.
    const polls: Promise<void>[] = [];
    while (dripping) {
      polls.push(poll());
      await new Promise((r) => setTimeout(r, 300));
    }
    await Promise.all(polls);
  })();
  const dripped = await Promise.all(drips);
  dripping = false;
  for (const t of timers) clearInterval(t);
  await polling;
  const dripSeconds = (Date.now() - started) / 1000;

  // Hostile archives: a device node, a gzip bomb past EXEC_COPY_MAX_BYTES, xz, a tar cut inside an entry.
  const hostile: Record<string, string> = {};
  const attempt = async (name: string, tar: Buffer) => {
    hostile[name] = await files.copyTo(containerId, '/tmp/in', [tar]).then(
      () => 'OK',
      (e: ServiceError) => `${codeOf(e)}: ${e.details.slice(0, 160)}`,
    );
  };
  const bomb = gzipSync(Buffer.concat([tarHeader('bomb.bin', 1 << 30), Buffer.alloc(16 << 20)]));
  await attempt('char device', Buffer.concat([tarHeader('null2', 0, 0o666, '3', { major: 1, minor: 3 }), Buffer.alloc(1024)]));
  await attempt('block device', Buffer.concat([tarHeader('sda2', 0, 0o666, '4', { major: 8, minor: 2 }), Buffer.alloc(1024)]));
  await attempt(`gzip bomb (${bomb.length} bytes, a 1 GiB entry)`, bomb);
  await attempt('xz', Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(512)]));
  await attempt('tar cut inside an entry', Buffer.concat([tarHeader('cut.bin', 1 << 20), Buffer.alloc(300_000, 3)]));
  const left = (await inContainer('ls -A /tmp/in')).split('\n').filter(Boolean);
  const afterStatus = await control.status(containerId).then(
    (r) => r.status,
    (e: ServiceError) => codeOf(e),
  );
  const probe = await probeSession(s);
  recordFigures('copy-drips-and-hostile-archives', {
    windowMs: WINDOW_MS,
    drippers: DRIPPERS,
    dripped: dripped.map((d) => ({ code: d.code, seconds: d.seconds })),
    dripDetails: dripped[0]?.details.slice(0, 300),
    dripSeconds,
    statusWhileDripping: statusAnswers,
    slowestStatusMs,
    busyDetails: busyDetails[0]?.slice(0, 300),
    hostile,
    leftInTarget: left,
    afterStatus,
    probe,
    aliveAfter: alive(s.pid()),
  });
  for (const d of dripped)
    expect({ code: d.code, details: d.details }).toEqual({ code: 'ABORTED', details: expect.stringMatching(/EXEC_COPY_MIN_BYTES_PER_SECOND/) });
  expect(busyDetails.length).toBeGreaterThan(0);
  expect(Object.keys(statusAnswers).filter((c) => c !== 'OK' && c !== 'UNAVAILABLE')).toEqual([]);
  expect(hostile).toEqual({
    'char device': expect.stringMatching(/^INVALID_ARGUMENT: entry "null2" is a char device/),
    'block device': expect.stringMatching(/^INVALID_ARGUMENT: entry "sda2" is a block device/),
    [`gzip bomb (${bomb.length} bytes, a 1 GiB entry)`]: expect.stringMatching(/^RESOURCE_EXHAUSTED: entry "bomb\.bin" .*EXEC_COPY_MAX_BYTES/),
    xz: expect.stringMatching(/^INVALID_ARGUMENT: the archive is compressed with xz/),
    'tar cut inside an entry': expect.stringMatching(/^INVALID_ARGUMENT: the tar ends too soon: entry "cut\.bin" ended after 300000/),
  });
  expect(left).toEqual([]);
  expect(afterStatus).toBe('running');
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  await waitFor(() => alive(s.pid()), 1000);
});

it('a CopyFrom of a small tar still round-trips byte-exactly after all that', async () => {
  await files.copyTo(containerId, '/tmp/in', [smallTar({ 'ok.txt': 'still fine\n' })]);
  const { tar } = await files.copyFrom(containerId, '/tmp/in/ok.txt');
  const d = new TarDigest();
  for await (const chunk of tar) d.write(chunk);
  await new Promise((r) => d.end(r));
  expect(d.entries.map((e) => [e.name, e.size])).toEqual([['ok.txt', 11]]);
});
