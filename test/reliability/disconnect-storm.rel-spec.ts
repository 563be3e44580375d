import { createHash } from 'node:crypto';
import { ExecClient, GRPCConnectionManager } from '@exec-stream/client';
import { BASE_IMAGE } from '../support/server';
import { GO, GO_DONE } from '../support/cues';
import { alive, processUsage, recordFigures, tally } from './support/figures';
import { Prng } from './support/prng';
import { runPool } from './support/pool';
import { serviceForSuite, TOKEN, waitFor } from './support/service';

const SEED = 80_004;
const CLIENTS = 600;
const CHANNELS = 8;
/** The range the storm's replay starts are drawn from (a start past the output so far is refused). */
const SEQUENCE_SPAN = 4000;
/** The script writes at least this many lines before it looks for the test's cue. */
const MIN_LINES = 400;
/**
 * A known stream, live for as long as the test needs it: numbered lines on stdout (and every 100th a
 * mark on stderr), each its own write with a pause of 2 ms after it (a timed `read` on a FIFO nobody
 * writes: no process forked per line), at least MIN_LINES of them and then until the test's cue has come
 * (GO_DONE: an exec made /tmp/go and has ended; after the storm, once the final attach has had its
 * replay); then a last line giving the count, and exit 5. Output grows all through the storm, so a
 * reader mid-stream always has more coming.
 */
const COMMAND = [
  'sh',
  '-c',
  'mkfifo /tmp/pause && exec 3<>/tmp/pause; i=1; ' +
    `while [ $i -le ${MIN_LINES} ] || ! ${GO_DONE}; do echo "line $i of the storm"; [ $((i % 100)) -eq 0 ] && echo "mark $i" >&2; i=$((i+1)); read -t 0.002 x <&3; done; ` +
    'echo "after the storm: $((i-1)) lines"; exit 5',
];
/** What the script writes when its last line says `lines`: byte for byte. */
const expectedStdout = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `line ${i + 1} of the storm\n`).join('') + `after the storm: ${lines} lines\n`;
const expectedStderr = (lines: number) => Array.from({ length: Math.floor(lines / 100) }, (_, i) => `mark ${(i + 1) * 100}\n`).join('');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const s = serviceForSuite();

it('a storm of clients attaching and cancelling on a live session; a final attach is byte-exact with the true exit code', async () => {
  const rng = new Prng(SEED);
  const session = s.client.run(BASE_IMAGE, { command: COMMAND, sequenced: true });
  const { sessionId, containerId } = await session.ready;
  session.cancel(); // even the starter leaves: the session must go on regardless
  const channels = Array.from({ length: CHANNELS }, () => new GRPCConnectionManager({ address: s.svc.address, token: TOKEN }));
  const clients = channels.map((c) => new ExecClient(c));
  const before = processUsage(s.pid());
  const outcomes: Record<string, number> = {};
  const errorDetails: Record<string, string> = {};
  const refusals: string[] = [];
  const t0 = Date.now();
  await runPool(CLIENTS, 40, async (i) => {
    const how = rng.int(3);
    const sequenced = rng.bool();
    const fromSequence = rng.bool(0.3) ? rng.int(SEQUENCE_SPAN) : 0;
    const pieces = 1 + rng.int(200);
    const a = clients[i % CHANNELS].attach({ sessionId, sequenced, fromSequence });
    if (how === 0) {
      a.cancel(); // before Ready
      tally(outcomes, 'cancelled before ready');
      return;
    }
    try {
      await a.ready;
      let n = 0;
      if (how === 2) for await (const _ of a.output()) if (++n >= pieces) break;
      a.cancel();
      tally(outcomes, how === 1 ? 'cancelled after ready' : 'cancelled mid-stream');
    } catch (err) {
      const { code, details } = err as { code?: number; details?: string };
      const key = `error ${code}`;
      if (
        !(code === 8 && /clients \(EXEC_MAX_CLIENTS_PER_SESSION/.test(details ?? '')) &&
        !(code === 3 && /is past the session's next chunk/.test(details ?? ''))
      )
        refusals.push(`${key}: ${details}`);
      tally(outcomes, key);
      errorDetails[key] ??= `${(err as { details?: string }).details} (sequenced ${sequenced}, from ${fromSequence})`;
    }
  });
  const stormMs = Date.now() - t0;
  for (const c of channels) c.close();
  // The final attach, on a fresh channel, from the first chunk: every byte, in order, and the true exit
  // code. The process is let go once this attach has had its replay: what follows reaches it live.
  const last = s.client.attach({ sessionId, sequenced: true });
  const parts: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  let liveChunks = 0;
  const reading = (async () => {
    for await (const p of last.output()) {
      parts[p.stream].push(p.data);
      if (!p.isReplay) liveChunks++;
    }
  })();
  await last.ready;
  expect(await s.client.exec(containerId, { command: GO }).wait()).toBe(0);
  await reading;
  const final = { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr), exitCode: await last.exit };
  // The count the script itself wrote in its last line; every byte before it is then known.
  const lines = Number(/after the storm: (\d+) lines\n$/.exec(final.stdout.toString())?.[1] ?? -1);
  const EXPECTED_STDOUT = expectedStdout(lines);
  const aliveAfter = alive(s.pid());
  await waitFor(() => processUsage(s.pid()).fds <= before.fds + 8, 15_000);
  const after = processUsage(s.pid());
  recordFigures('disconnect-storm', {
    seed: SEED,
    clients: CLIENTS,
    channels: CHANNELS,
    outcomes,
    errorDetails,
    liveChunksAfterStorm: liveChunks,
    stormMs,
    lines,
    stdoutBytes: final.stdout.length,
    stdoutSha256: sha256(final.stdout),
    expectedSha256: sha256(EXPECTED_STDOUT),
    exitCode: final.exitCode,
    before,
    after,
    aliveAfter,
  });
  expect(lines).toBeGreaterThanOrEqual(MIN_LINES);
  expect(sha256(final.stdout)).toBe(sha256(EXPECTED_STDOUT));
  expect(final.stderr.toString()).toBe(expectedStderr(lines));
  expect(final.exitCode).toBe(5);
  expect(liveChunks).toBeGreaterThan(0); // the session was live all through the storm
  expect(aliveAfter).toBe(true);
  // Only the per-session client limit (RESOURCE_EXHAUSTED) or a replay start past the output so far
  // (INVALID_ARGUMENT, docs/DURABILITY.md) may turn a client away.
  expect(refusals).toEqual([]);
  expect(after.fds).toBeLessThanOrEqual(before.fds + 8);
});
