import { status } from '@grpc/grpc-js';
import { ResumingSession } from '@exec-stream/client';
import { dockerAsync } from '../support/helpers';
import { BASE_IMAGE } from '../support/server';
import { recordFigures } from './support/figures';
import { Prng } from './support/prng';
import { probeSession, serviceForSuite } from './support/service';

const SEED = 80_005;
/** The kill points are drawn from lines 50 to 50 + SPREAD. */
const SPREAD = 1000;
const KILLS = 3;
/**
 * Numbered lines, one every ~4 ms, until its cue (SIGUSR1, `docker kill -s USR1`, passed on by the init),
 * sent once the last restart is done: the output goes on through every kill and restart. Then it names
 * its count on stderr and exits 9: every line must arrive exactly once across the kills.
 */
const COMMAND = [
  'sh',
  '-c',
  `stop=; trap 'stop=1' USR1; i=0; while [ -z "$stop" ]; do i=$((i+1)); echo "line $i"; usleep 4000; done; echo "done $i" >&2; exit 9`,
];
const expected = (lines: number) => Array.from({ length: Math.max(0, lines) }, (_, i) => `line ${i + 1}\n`).join('');

const s = serviceForSuite();

it('kill -9 of the service mid-session, restarted, several times: the resuming client ends byte-exact with the true exit code', async () => {
  const rng = new Prng(SEED);
  // Kill points (line counts), seeded, increasing.
  const killAt = Array.from({ length: KILLS }, () => 50 + rng.int(SPREAD)).sort((a, b) => a - b);
  const reconnectCodes: number[] = [];
  const session = ResumingSession.run(s.client, BASE_IMAGE, {
    command: COMMAND,
    onReconnect: ({ attempt, error }) => attempt === 1 && reconnectCodes.push((error as { code?: number }).code ?? -1),
  });
  const { containerId } = await session.ready;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let lines = 0;
  const restarts: Array<{ atLine: number; listeningMs: number }> = [];
  let restarting: Promise<void> = Promise.resolve();
  let next = 0;
  for await (const p of session.output()) {
    (p.stream === 'stdout' ? out : err).push(p.data);
    lines += p.data.toString().split('\n').length - 1;
    if (next < killAt.length && lines >= killAt[next]) {
      const atLine = lines;
      next++;
      // The kill and restart run beside the reader, which sees the drop and resumes on its own.
      restarting = restarting.then(async () => {
        await s.svc.stop('SIGKILL');
        restarts.push({ atLine, listeningMs: (await s.svc.start()).listeningMs });
        if (restarts.length === KILLS) await dockerAsync('kill', '-s', 'USR1', containerId); // the process's cue to end
      });
    }
  }
  await restarting;
  const exitCode = await session.exit;
  const stdout = Buffer.concat(out).toString();
  const stderr = Buffer.concat(err).toString();
  const lineCount = Number(/^done (\d+)\n$/.exec(stderr)?.[1] ?? -1);
  const probe = await probeSession(s);
  recordFigures('service-kill', {
    seed: SEED,
    lines: lineCount,
    killAt,
    restarts,
    reconnects: session.reconnects,
    reconnectCodes,
    exitCode,
    stdoutExact: stdout === expected(lineCount),
    stdoutBytes: stdout.length,
    probe,
  });
  expect(restarts).toHaveLength(KILLS);
  expect(stderr).toBe(`done ${lineCount}\n`);
  // The process wrote past the last kill point (it ran through every kill), and every line it wrote
  // arrived once, in order.
  expect(lineCount).toBeGreaterThan(killAt[KILLS - 1]);
  expect(stdout).toBe(expected(lineCount));
  expect(exitCode).toBe(9);
  expect(session.reconnects).toBeGreaterThanOrEqual(1);
  // Every drop was seen as UNAVAILABLE (its first reconnect attempt says what ended the call), and
  // each ended in one reconnect.
  expect(reconnectCodes).toEqual(reconnectCodes.map(() => status.UNAVAILABLE));
  expect(reconnectCodes).toHaveLength(session.reconnects);
  expect(reconnectCodes.length).toBeGreaterThanOrEqual(1);
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
});
