import { status } from '@grpc/grpc-js';
import { ResumingSession } from '@exec-stream/client';
import { buildService } from '../support/child-service';
import { BASE_IMAGE } from '../support/server';
import { recordFigures } from './support/figures';
import { Prng } from './support/prng';
import { probeSession, serviceUnderTest, type ServiceUnderTest } from './support/service';

const SEED = 80_005;
const LINES = 1500;
const KILLS = 3;
/** Numbered lines over several seconds, then exit 9: every line must arrive exactly once across the kills. */
const COMMAND = ['sh', '-c', `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); usleep 4000; done; echo done >&2; exit 9`];
const EXPECTED = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join('');

let s: ServiceUnderTest;
beforeAll(async () => {
  buildService();
  s = await serviceUnderTest();
}, 120_000);
afterAll(() => s?.dispose());

it('kill -9 of the service mid-session, restarted, several times: the resuming client ends byte-exact with the true exit code', async () => {
  const rng = new Prng(SEED);
  // Kill points (line counts), seeded, increasing, spread over the first two thirds of the output.
  const killAt = Array.from({ length: KILLS }, () => 50 + rng.int((LINES * 2) / 3)).sort((a, b) => a - b);
  const reconnectCodes: number[] = [];
  const session = ResumingSession.run(s.client, BASE_IMAGE, {
    command: COMMAND,
    onReconnect: ({ attempt, error }) => attempt === 1 && reconnectCodes.push((error as { code?: number }).code ?? -1),
  });
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
      });
    }
  }
  await restarting;
  const exitCode = await session.exit;
  const stdout = Buffer.concat(out).toString();
  const probe = await probeSession(s);
  recordFigures('service-kill', {
    seed: SEED,
    lines: LINES,
    killAt,
    restarts,
    reconnects: session.reconnects,
    reconnectCodes,
    exitCode,
    stdoutExact: stdout === EXPECTED,
    stdoutBytes: stdout.length,
    probe,
  });
  expect(restarts).toHaveLength(KILLS);
  expect(stdout).toBe(EXPECTED);
  expect(Buffer.concat(err).toString()).toBe('done\n');
  expect(exitCode).toBe(9);
  expect(session.reconnects).toBeGreaterThanOrEqual(1);
  // Every drop was seen as UNAVAILABLE (its first reconnect attempt says what ended the call), and
  // each ended in one reconnect.
  expect(reconnectCodes).toEqual(reconnectCodes.map(() => status.UNAVAILABLE));
  expect(reconnectCodes).toHaveLength(session.reconnects);
  expect(reconnectCodes.length).toBeGreaterThanOrEqual(1);
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
});
