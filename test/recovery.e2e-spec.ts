import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ControlClient, ResumingSession, type ExecSession } from '@exec-stream/client';
import { childService, buildService, type ChildService } from './support/child-service';
import { BASE_IMAGE } from './support/server';
import { backgroundReader, inspectContainer, waitUntil } from './support/conditions';
import { docker, grpcError } from './support/helpers';

jest.setTimeout(90_000);

/** Lines NUMBERED writes after its cue. */
const AFTER_CUE = 50;
/**
 * A numbered line every 10 ms until its cue (SIGUSR1, sent once the service is back), AFTER_CUE more,
 * then `done N` (the last line's number) on stderr and exit 7: every line must arrive exactly once
 * across a crash, and the container writes before, during and after the service's downtime.
 */
const NUMBERED = [
  'sh',
  '-c',
  `end=0; trap 'end=$((i+${AFTER_CUE}))' USR1; i=1; while [ $end = 0 ] || [ $i -lt $end ]; do echo "line $i"; i=$((i+1)); usleep 10000; done; echo "done $((i-1))" >&2; exit 7`,
];
/** Lines 1..n as NUMBERED prints them. */
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');

/** A command that waits for its cue (SIGUSR1, see cue()) and then runs `script`: it writes only once the test says so. */
const onCue = (script: string) => ['sh', '-c', `go=; trap 'go=1' USR1; until [ -n "$go" ]; do usleep 20000; done; ${script}`];
/** Sends the cue: `docker kill -s USR1`, which the container's init and the service's shim pass on to the command. */
const cue = (...containerIds: string[]) => void docker('kill', '-s', 'USR1', ...containerIds);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads a session's output in the background until `text` has arrived. */
async function backgroundUntil(s: ExecSession, text: string): Promise<void> {
  let seen = '';
  for await (const p of s.output()) {
    seen += p.data.toString();
    if (seen.includes(text)) return;
  }
  throw new Error(`the session ended before ${JSON.stringify(text)}`);
}

let svc: ChildService;
/** Environment of the service each test gets (a describe may set it in its beforeAll). */
let serviceEnv: Record<string, string> = {};
beforeAll(() => buildService());
beforeEach(async () => {
  svc = await childService(serviceEnv);
  await svc.start();
});
afterEach(() => svc?.dispose());

/**
 * Runs NUMBERED through a ResumingSession, takes the service down with `signal` once `afterLines` lines
 * arrived, keeps it down for `downMs` (the container writes on), starts it again, cues the container
 * (AFTER_CUE more lines, then its end), and returns what the client saw plus when the first
 * post-restart chunk arrived.
 */
async function crashAndResume(signal: NodeJS.Signals, afterLines: number, downMs: number) {
  const errors: string[] = [];
  const s = ResumingSession.run(svc.client, BASE_IMAGE, {
    command: NUMBERED,
    onReconnect: ({ error }) => errors.push(`${(error as ServiceError).code}: ${error.message}`),
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let lines = 0;
  let restartedAt = 0;
  let firstAfterRestartMs = -1;
  let stopped: Promise<unknown> | undefined;
  let listeningMs = -1;
  for await (const p of s.output()) {
    (p.stream === 'stdout' ? out : err).push(p.data);
    if (restartedAt && firstAfterRestartMs < 0) firstAfterRestartMs = Date.now() - svc.spawnedAt;
    lines += p.data.toString().split('\n').length - 1;
    if (!stopped && lines >= afterLines) {
      stopped = (async () => {
        const exited = await svc.stop(signal);
        await new Promise((r) => setTimeout(r, downMs));
        restartedAt = Date.now();
        listeningMs = (await svc.start()).listeningMs;
        cue((await s.ready).containerId);
        return exited;
      })();
    }
  }
  const stderr = Buffer.concat(err).toString();
  const last = Number(/^done (\d+)\n$/.exec(stderr)?.[1]);
  return {
    stdout: Buffer.concat(out).toString(),
    stderr,
    /** Every line NUMBERED wrote (it said how many on stderr), once each, in order. */
    expected: numbered(last),
    last,
    exitCode: await s.exit,
    exited: await stopped,
    reconnects: s.reconnects,
    errors,
    firstAfterRestartMs,
    listeningMs,
  };
}

it('kill -9 mid-stream, restart, resume: every line exactly once and the true exit code', async () => {
  const r = await crashAndResume('SIGKILL', 100, 1000);
  expect(r.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(r.stderr).toMatch(/^done \d+\n$/);
  expect(r.last).toBeGreaterThanOrEqual(100 + AFTER_CUE); // lines before the kill, and after the restart
  expect(r.stdout).toBe(r.expected); // no line lost, none twice, in order
  expect(r.exitCode).toBe(7);
  expect(r.reconnects).toBeGreaterThanOrEqual(1);
  expect(r.errors[0]).toMatch(/^14:/); // the drop was seen as UNAVAILABLE
  const adopted = svc.logs.filter((l) => l.msg === 'session re-adopted');
  expect(adopted).toHaveLength(1);
  process.stdout.write(
    `[measure] kill -9 restart: listening after ${r.listeningMs} ms, first re-adopted chunk at the client ${r.firstAfterRestartMs} ms after spawn\n`,
  );
});

it('SIGTERM drains (clients told UNAVAILABLE, process exits, container left running), restart re-adopts it exactly', async () => {
  const r = await crashAndResume('SIGTERM', 100, 500);
  expect(r.exited).toMatchObject({ signal: 'SIGTERM' });
  expect(r.errors[0]).toMatch(/^14: .*exec-stream is shutting down; running processes go on/);
  expect(r.stderr).toMatch(/^done \d+\n$/);
  expect(r.last).toBeGreaterThanOrEqual(100 + AFTER_CUE);
  expect(r.stdout).toBe(r.expected);
  expect(r.exitCode).toBe(7);
  expect(svc.logs.some((l) => l.msg?.toString().startsWith('draining') && l.sealed === true)).toBe(true);
});

it("SIGTERM while a plain client (grpc-js' 64 KiB window) is stalled: once it reads on, after the service is gone, what it gets is exact and ends in an error, never a clean end", async () => {
  // A client in a process of its own, with grpc-js' default HTTP/2 window (as a plain grpc-js or Nest
  // client has), that takes one piece and stalls, with a run that writes far more than HTTP/2 and the
  // sockets hold.
  const stalled = [join(__dirname, 'support', 'stalled-client.js'), svc.address, BASE_IMAGE, 'head -c 64000000 /dev/zero; exec sleep 600', '65535'];
  const child = spawn(process.execPath, stalled, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  let containerId = '';
  try {
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const started = JSON.parse(String((await lines.next()).value)) as { ready: { containerId: string; sessionId: string }; first: { bytes: number } };
    containerId = started.ready.containerId;
    // The service has far more of the run's output than the client took (1 MiB, 16 of its windows)
    // before it is stopped, so output is on its way to the client when the drain ends the call: stopped
    // sooner, under load the run may not yet have written past that first piece (run m4).
    const control = new ControlClient(svc.connection);
    await waitUntil('1 MiB of the run recorded', async () => {
      const info = (await control.listSessions({ session_id: started.ready.sessionId })).sessions?.[0];
      return Number(info?.output_bytes ?? 0) >= 1024 * 1024;
    });
    expect(await svc.stop('SIGTERM')).toMatchObject({ signal: 'SIGTERM' });
    child.stdin.write('go\n');
    const read = JSON.parse(String((await lines.next()).value)) as { sha: string; bytes: number; error: string };
    const [code] = await exited;
    // The drain ends the call with UNAVAILABLE and its message; HTTP/2 sends that status after the data
    // queued before it, which a stalled client has not made room for, so when the drain's time is up and
    // the service closes, the stream may be reset instead: grpc-js then says CANCELLED (seen once in a
    // fresh run). A resuming client reattaches on either (packages/client/src/resuming-session.ts).
    expect({ code, stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^stalled-client: (14 UNAVAILABLE: exec-stream is shutting down; running processes go on|1 CANCELLED: )/),
    });
    // What reached it is exact: every byte the zeros the run wrote (by content); when the status got
    // through, it came after what was on its way, which is more than the one piece it had taken.
    expect(read.sha).toBe(sha256(Buffer.alloc(read.bytes)));
    if (stderr.includes('UNAVAILABLE')) expect(read.bytes).toBeGreaterThan(started.first.bytes);
  } finally {
    child.kill('SIGKILL');
    if (containerId) docker('rm', '-f', containerId); // the drain left it running, to be re-adopted
  }
});

it('a re-adopted session accepts no stdin: even its starting client_id is refused (PERMISSION_DENIED), and the process runs on', async () => {
  const s = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; exec sleep 600'], openStdin: true, clientId: 'readopted-writer' });
  const { sessionId, containerId } = await s.ready;
  const first = backgroundReader(s.output());
  first.done.catch(() => undefined); // cut by the kill
  await first.until('up\n');
  await svc.stop('SIGKILL');
  await svc.start();
  await waitUntil('the session re-adopted', () => svc.logs.some((l) => l.msg === 'session re-adopted'));
  const again = svc.client.attach({ sessionId, clientId: 'readopted-writer' });
  await again.ready;
  await again.write(Buffer.from('typed after the restart\n'));
  const err = await grpcError(again.wait());
  expect({ code: status[err.code], details: err.details }).toEqual({ code: 'PERMISSION_DENIED', details: expect.stringMatching(/stdin/) });
  expect(inspectContainer(containerId)?.State.Running).toBe(true);
  docker('rm', '-f', containerId);
});

it('an exec running at the crash is re-adopted from its output record: every byte and its exit code', async () => {
  const host = svc.client.run(BASE_IMAGE, { command: ['sleep', '60'] });
  const { containerId } = await host.ready;
  const ex = svc.client.exec(containerId, { command: ['sh', '-c', 'echo before; sleep 2; echo after; echo err >&2; exit 6'], sequenced: true });
  const { sessionId } = await ex.ready;
  for await (const p of ex.output()) if (p.data.toString().includes('before')) break;
  await svc.stop('SIGKILL');
  await svc.start();
  const again = await svc.client.attach({ sessionId }).collect();
  expect({ out: again.stdout.toString(), err: again.stderr.toString(), exitCode: again.exitCode }).toEqual({
    out: 'before\nafter\n',
    err: 'err\n',
    exitCode: 6,
  });
  expect(svc.logs.some((l) => l.msg === 'exec re-adopted' && l.containerId === containerId.slice(0, 12))).toBe(true);
});

describe('damaged files in the data dir', () => {
  /** Runs a finished session of 40 numbered lines, one chunk each; returns its id and folder. */
  async function finishedSession(): Promise<{ id: string; dir: string }> {
    const s = svc.client.run(BASE_IMAGE, {
      command: ['sh', '-c', 'i=1; while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); usleep 3000; done'],
      sequenced: true,
    });
    const { sessionId } = await s.ready;
    expect(await s.wait()).toBe(0);
    return { id: sessionId, dir: join(svc.dataDir, 'sessions', sessionId) };
  }

  /** Bytes left of b's stdout: inside its output (40 lines are ~300 bytes); whole chunks before it survive. */
  const CUT = 100;

  /**
   * The chunks a truncation of stdout at `cut` leaves whole, read from the session's index (32-byte
   * records: u8 stream, u32 length at 4, u64 offset at 8): those in sequence order before the first one
   * that reaches past the cut, with their bytes.
   */
  function wholeChunksBefore(dir: string, cut: number): Array<{ seq: number; text: string }> {
    const index = readFileSync(join(dir, 'index'));
    const stdout = readFileSync(join(dir, 'stdout'));
    const out: Array<{ seq: number; text: string }> = [];
    for (let i = 0; i * 32 < index.length; i++) {
      const rec = index.subarray(i * 32, i * 32 + 32);
      expect(rec[0]).toBe(1); // every chunk of this session is stdout
      const length = rec.readUInt32LE(4);
      const offset = Number(rec.readBigUInt64LE(8));
      if (offset + length > cut) break;
      out.push({ seq: i + 1, text: stdout.subarray(offset, offset + length).toString() });
    }
    return out;
  }

  async function readAll(sessionId: string, sequenced: boolean) {
    const s = svc.client.attach({ sessionId, sequenced });
    const pieces: Array<{ seq?: number; gap?: number; text: string }> = [];
    let error: ServiceError | undefined;
    try {
      for await (const p of s.output()) pieces.push({ seq: p.sequence, gap: p.gapBefore, text: p.data.toString() });
    } catch (e) {
      error = e as ServiceError;
    }
    const exitCode = await s.exit.catch(() => undefined);
    return { pieces, error, exitCode, text: pieces.map((p) => p.text).join('') };
  }

  it('detects and reports corrupt, torn and truncated files; damaged bytes are never served', async () => {
    const a = await finishedSession(); // data of one chunk altered
    const b = await finishedSession(); // stdout truncated
    const c = await finishedSession(); // torn last index record
    const d = await finishedSession(); // meta.json unreadable
    const before = await readAll(a.id, true);
    const chunks = before.pieces.length;
    expect(chunks).toBeGreaterThan(10);
    // c's own chunks: chunk boundaries depend on timing, so each session is compared with itself.
    const beforeC = await readAll(c.id, true);
    await svc.stop('SIGTERM');

    // a: flip a byte inside chunk 5's data (its offset from the index record).
    const index = readFileSync(join(a.dir, 'index'));
    const off = Number(index.readBigUInt64LE(4 * 32 + 8));
    const stdout = readFileSync(join(a.dir, 'stdout'));
    stdout[off] ^= 0x20; // "line" → "Line": still plausible text, so only the checksum can tell
    writeFileSync(join(a.dir, 'stdout'), stdout);
    // b: cut stdout in the middle of the output; the chunks (in sequence order) wholly before the cut survive.
    const bSurvivors = wholeChunksBefore(b.dir, CUT);
    truncateSync(join(b.dir, 'stdout'), CUT);
    // c: the last index record torn (a crash mid-write).
    truncateSync(join(c.dir, 'index'), readFileSync(join(c.dir, 'index')).length - 9);
    // d
    writeFileSync(join(d.dir, 'meta.json'), '{ not json');

    await svc.start();

    // a: a sequenced reader skips chunk 5 and is told (gap_before = 1); the altered text never appears.
    const ra = await readAll(a.id, true);
    expect(ra.pieces.map((p) => p.seq)).toEqual(before.pieces.map((p) => p.seq).filter((s) => s !== 5));
    expect(ra.pieces.find((p) => p.seq === 6)?.gap).toBe(1);
    expect(ra.pieces.filter((p) => p.seq !== 6).every((p) => p.gap === 0)).toBe(true);
    expect(ra.text).toBe(
      before.pieces
        .filter((p) => p.seq !== 5)
        .map((p) => p.text)
        .join(''),
    );
    expect(ra.text).not.toMatch(/Line/);
    expect(ra.exitCode).toBe(0);
    // … and a plain (reference) reader, which cannot be told of a gap, gets DATA_LOSS at it.
    const ra2 = await readAll(a.id, false);
    expect(ra2.text).toBe(
      before.pieces
        .slice(0, 4)
        .map((p) => p.text)
        .join(''),
    );
    expect(ra2.error?.code).toBe(status.DATA_LOSS);

    // b: exactly the whole chunks that lie before the cut are served (from b's own index and bytes),
    // then DATA_LOSS, no exit code.
    const rb = await readAll(b.id, true);
    expect(bSurvivors.length).toBeGreaterThan(0); // the cut leaves some whole chunks: an empty read cannot pass
    expect(rb.pieces.map((p) => p.seq)).toEqual(bSurvivors.map((c) => c.seq));
    expect(rb.text).toBe(bSurvivors.map((c) => c.text).join(''));
    expect(rb.error?.code).toBe(status.DATA_LOSS);
    expect(rb.error?.details).toMatch(/last \d+ chunks are missing/);
    expect(rb.exitCode).toBeUndefined();

    // c: the torn chunk is lost for good: everything before it, then DATA_LOSS instead of a clean exit.
    const rc = await readAll(c.id, true);
    expect(beforeC.pieces.length).toBeGreaterThan(1);
    expect(rc.text).toBe(
      beforeC.pieces
        .slice(0, beforeC.pieces.length - 1)
        .map((p) => p.text)
        .join(''),
    );
    expect(rc.error?.code).toBe(status.DATA_LOSS);

    // d: not loaded (we cannot tell what it is): NOT_FOUND, and logged.
    const rd = await readAll(d.id, true);
    expect(rd.error?.code).toBe(status.NOT_FOUND);

    const damaged = svc.logs.filter((l) => /damaged|unreadable|failed its checksum/.test(String(l.msg))).map((l) => l.sessionId);
    expect(damaged).toEqual(expect.arrayContaining([a.id, b.id, c.id, d.id]));
  });
});

it('a container that exited while the service was down: all its output and its exit code are recovered, and the container is removed', async () => {
  // Lines 1 to 20, then lines 21 to 100 on the cue, given once the service is down.
  const s = svc.client.run(BASE_IMAGE, {
    command: [
      'sh',
      '-c',
      `go=; trap 'go=1' USR1; i=1; while [ $i -le 100 ]; do echo "line $i"; [ $i = 20 ] && until [ -n "$go" ]; do usleep 20000; done; i=$((i+1)); done; exit 5`,
    ],
    sequenced: true,
  });
  const { sessionId, containerId } = await s.ready;
  let last = 0;
  const seen: Buffer[] = [];
  for await (const p of s.output()) {
    seen.push(p.data);
    last = p.sequence!;
    if (Buffer.concat(seen).toString().includes('line 20\n')) break;
  }
  await svc.stop('SIGKILL');
  cue(containerId);
  // Docker says when the container has exited (no guess at how long 80 lines take); the service is down.
  expect(docker('wait', containerId)).toBe('5');
  expect(inspectContainer(containerId)?.State).toMatchObject({ Status: 'exited', ExitCode: 5 });
  await svc.start();
  const rest = await svc.client.attach({ sessionId, fromSequence: last + 1, sequenced: true }).collect();
  const expected = Array.from({ length: 100 }, (_, i) => `line ${i + 1}\n`).join('');
  expect(Buffer.concat([...seen, rest.stdout]).toString()).toBe(expected);
  expect(rest.exitCode).toBe(5);
  // The leftover container is removed by the restarted service (re-adoption end or reconciliation), not by the test.
  await waitUntil(`container ${containerId.slice(0, 12)} removed by the service`, () => inspectContainer(containerId) === undefined, 20_000);
  expect(svc.logs.some((l) => l.msg === 'session re-adopted' && l.sessionId === sessionId)).toBe(true);
});

describe('the output record in the container (docs/DURABILITY.md)', () => {
  describe('with EXEC_RECOVERY_RECORD_BYTES=1 MiB', () => {
    // The service each test here gets keeps 1 MiB of output per stream while it is down, from its first start on: segments of 128 KiB.
    beforeAll(() => (serviceEnv = { EXEC_RECOVERY_RECORD_BYTES: String(1 << 20) }));
    afterAll(() => (serviceEnv = {}));

    it('output written while the service is down: exact across segment rotations within EXEC_RECOVERY_RECORD_BYTES, DATA_LOSS naming the bytes beyond it', async () => {
      // 700 KB of numbered 10-byte lines: several segments, all kept; then 3 MB: the oldest are gone.
      // Both write only on their cue, given once the service is down.
      const within = svc.client.run(BASE_IMAGE, { command: onCue('seq 100000 169999; echo end >&2; exit 6'), sequenced: true });
      const beyond = svc.client.run(BASE_IMAGE, { command: onCue('head -c 3000000 /dev/zero | tr "\\0" x; exit 2'), sequenced: true });
      const ids = [await within.ready, await beyond.ready];
      await svc.stop('SIGKILL');
      cue(...ids.map((r) => r.containerId));
      for (const { containerId } of ids) expect(docker('wait', containerId)).toMatch(/^[62]$/);
      await svc.start();
      const got = await svc.client.attach({ sessionId: ids[0].sessionId }).collect();
      expect(sha256(got.stdout)).toBe(sha256(Buffer.from(Array.from({ length: 70000 }, (_, i) => `${100000 + i}\n`).join(''))));
      expect(got.stderr.toString()).toBe('end\n');
      expect(got.exitCode).toBe(6);
      const lost = await svc.client
        .attach({ sessionId: ids[1].sessionId })
        .collect()
        .then(
          () => undefined,
          (err: ServiceError) => err,
        );
      expect(lost?.code).toBe(status.DATA_LOSS);
      expect(lost?.details).toMatch(/bytes 0\.\.\d+ of stdout were written while exec-stream was down and are no longer kept/);
    });
  });

  it('a TTY, a container paused while the service was down, and a read-only root run as another user are re-adopted exactly', async () => {
    // The TTY and the read-only one write only on their cue, given once the service is down.
    const tty = svc.client.run(BASE_IMAGE, { tty: true, command: onCue('for i in $(seq 1 50); do echo "tty $i"; done; exit 3') });
    const paused = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo a; sleep 2; echo b; exit 4'], sequenced: true });
    const nobody = svc.client.run(BASE_IMAGE, { user: '65534:65534', readOnlyRootfs: true, command: onCue('id -u; seq 1 500; exit 5') });
    const [t, p, n] = [await tty.ready, await paused.ready, await nobody.ready];
    await backgroundUntil(paused, 'a\n');
    await svc.stop('SIGKILL');
    docker('pause', p.containerId);
    cue(t.containerId, n.containerId);
    for (const { containerId } of [t, n]) docker('wait', containerId);
    await svc.start();
    // Re-adoption of the paused one waits for it (no exec runs in a paused container); the others end.
    const [rt, rn] = await Promise.all([svc.client.attach({ sessionId: t.sessionId }).collect(), svc.client.attach({ sessionId: n.sessionId }).collect()]);
    expect(rt.stdout.toString()).toBe(Array.from({ length: 50 }, (_, i) => `tty ${i + 1}\r\n`).join(''));
    expect(rt.exitCode).toBe(3);
    expect(rn.stdout.toString()).toBe('65534\n' + Array.from({ length: 500 }, (_, i) => `${i + 1}\n`).join(''));
    expect(rn.exitCode).toBe(5);
    docker('unpause', p.containerId);
    const rp = await svc.client.attach({ sessionId: p.sessionId }).collect();
    expect(rp.stdout.toString()).toBe('a\nb\n');
    expect(rp.exitCode).toBe(4);
  });

  it("a container made before the output record (an upgrade) is re-adopted from Docker's log, exactly", async () => {
    // The session as the previous version left it: its files, and a container logging with `local`
    // and no record (made here with the docker CLI: same labels, same deterministic output).
    const script = 'i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); usleep 5000; done; exit 9';
    const s = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', `${script}`], sequenced: true });
    const { sessionId, containerId } = await s.ready;
    await backgroundUntil(s, 'line 40\n');
    await svc.stop('SIGKILL');
    const labels = JSON.parse(docker('inspect', '-f', '{{json .Config.Labels}}', containerId)) as Record<string, string>;
    docker('rm', '-f', '-v', '-v', containerId);
    const legacy = docker(
      'run',
      '-d',
      '--log-driver',
      'local',
      '--network',
      'none',
      '--init',
      ...Object.entries(labels)
        .filter(([k]) => k !== 'exec-stream.recorder')
        .flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      BASE_IMAGE,
      'sh',
      '-c',
      script,
    );
    const processFile = join(svc.dataDir, 'sessions', sessionId, 'process.json');
    writeFileSync(processFile, JSON.stringify({ ...JSON.parse(readFileSync(processFile, 'utf8')), containerId: legacy }));
    await svc.start();
    const r = await svc.client.attach({ sessionId }).collect();
    expect(r.stdout.toString()).toBe(Array.from({ length: 300 }, (_, i) => `line ${i + 1}\n`).join(''));
    expect(r.exitCode).toBe(9);
    expect(svc.logs.some((l) => l.msg === 'container re-adopted' && l.source === "Docker's log")).toBe(true);
  });
});

it('Starts in flight at SIGTERM: each gets Ready then UNAVAILABLE, or UNAVAILABLE and no container; the ready ones end with their exit code after restart', async () => {
  // Six Starts at once (half of them with a request id); SIGTERM as the first is Ready, while Docker sets
  // the others up: at least one has not had its Ready when the signal is sent.
  const starts = Array.from({ length: 6 }, (_, i) => ({
    i,
    s: svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'sleep 2; exit 3'], ...(i % 2 ? { requestId: `drain-${i}-${Date.now()}` } : {}) }),
  }));
  const settled = new Set<number>();
  for (const { i, s } of starts)
    s.ready.then(
      () => settled.add(i),
      () => settled.add(i),
    );
  await Promise.any(starts.map(({ s }) => s.ready));
  expect(settled.size).toBeLessThan(starts.length);
  const outcomes = starts.map(({ s }) =>
    s.ready.then(
      async (r) => ({ sessionId: r.sessionId, end: await s.exit.then(String, (e: ServiceError) => status[e.code]) }),
      (e: ServiceError) => ({ sessionId: undefined, end: status[e.code] }),
    ),
  );
  await svc.stop('SIGTERM');
  const got = await Promise.all(outcomes);
  // No Start is cut (CANCELLED): Ready, then UNAVAILABLE (or its exit code, if it ended during the drain);
  // or UNAVAILABLE without Ready.
  for (const g of got) expect(g.sessionId ? ['UNAVAILABLE', '3'] : ['UNAVAILABLE']).toContain(g.end);
  const ready = got.filter((g) => g.sessionId).map((g) => g.sessionId!);
  // Every container this replica made belongs to a session whose client got its Ready.
  const made = docker('ps', '-a', '--filter', `label=exec-stream.replica=${svc.replicaId}`, '--format', '{{.Label "exec-stream.session"}}')
    .split('\n')
    .filter(Boolean);
  expect(made.filter((id) => !ready.includes(id))).toEqual([]);
  await svc.start();
  for (const sessionId of ready) expect((await svc.client.attach({ sessionId }).collect()).exitCode).toBe(3);
});
