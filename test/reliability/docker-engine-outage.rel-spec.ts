import type { ServiceError } from '@grpc/grpc-js';
import { buildService } from '../support/child-service';
import { BASE_IMAGE } from '../support/server';
import { secondEngine, type SecondEngine } from '../support/docker-engine';
import { engine as engineScript } from '../support/engine-async';
import { alive, recordFigures } from './support/figures';
import { encodeRequest } from './support/raw-rpc';
import { probeSession, serviceUnderTest, waitFor, type ServiceUnderTest } from './support/service';

const LINES = 3000;
/** Numbered lines for ~15 s, then exit 7; the engine goes down in the middle. */
const COMMAND = ['sh', '-c', `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); usleep 5000; done; exit 7`];
const EXPECTED = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`).join('');

let engine: SecondEngine;
let s: ServiceUnderTest;
beforeAll(async () => {
  buildService();
  engine = secondEngine('reliability');
  await engineScript(engine.name, 'start');
  s = await serviceUnderTest({ DOCKER_HOST: engine.host });
}, 240_000);
afterAll(async () => {
  await s?.dispose();
  try {
    const ids = engine.docker('ps', '-aq', '--filter', 'label=exec-stream.managed=true').split('\n').filter(Boolean);
    if (ids.length) engine.docker('rm', '-f', '-v', '-v', ...ids);
  } catch {
    /* the engine is down after a failed test: its next start cleans up */
  }
  if (engine) await engineScript(engine.name, 'stop');
}, 120_000);

/** Reads a session to its end: its stdout and either its exit code or its error. */
async function drain(session: ReturnType<ServiceUnderTest['client']['run']>, onLines?: (lines: number) => void) {
  const out: Buffer[] = [];
  let lines = 0;
  try {
    for await (const p of session.output()) {
      if (p.stream === 'stdout') out.push(p.data);
      lines += p.data.toString().split('\n').length - 1;
      onLines?.(lines);
    }
    return { stdout: Buffer.concat(out).toString(), exitCode: (await session.exit) as number | undefined, code: undefined as number | undefined, details: '' };
  } catch (err) {
    return { stdout: Buffer.concat(out).toString(), exitCode: undefined, code: (err as ServiceError).code, details: (err as ServiceError).details };
  }
}

/**
 * The true outcomes of COMMAND across an outage: 7 (it finished on its own while dockerd was away) or
 * 143 / 137 (dockerd stopped it: on its SIGTERM, or, after a kill -9, when it started again).
 */
const TRUE_CODES = [7, 143, 137];

describe.each(['stop', 'kill'] as const)('the second engine, %s-ed mid-session (SIGTERM / SIGKILL to dockerd)', (how) => {
  it('no fake exit 0: the live call ends with the true exit code once Docker can tell it; the service answers clearly meanwhile and serves again after', async () => {
    const t0 = Date.now();
    const session = s.client.run(BASE_IMAGE, { command: COMMAND });
    const { sessionId, containerId } = await session.ready;
    let down: Promise<void> | undefined;
    let ended = false;
    const draining = drain(session, (lines) => {
      // 50 lines in (~0.3 s of output): the engine goes down mid-session, with ~2950 lines still to come.
      if (!down && lines >= 50) down = engineScript(engine.name, how).then(() => undefined);
    }).finally(() => (ended = true));
    await waitFor(() => down !== undefined, 60_000);
    await down;
    const engineDownMs = Date.now() - t0;
    // While the engine is down: the service lives and answers status and new sessions at once, clearly.
    const aliveDuringOutage = alive(s.pid());
    const statusDuringOutage = await s.raw.unary('ContainerStatus', encodeRequest('ContainerStatus', { container_id: containerId }), undefined, 20_000);
    const startDuringOutage = await s.raw.session([encodeRequest('Session', { start: { image: BASE_IMAGE, command: ['true'] } })], undefined, 20_000);
    const liveEndedDuringOutage = ended; // the session waits for Docker to come back (docs/DURABILITY.md)
    await engineScript(engine.name, 'start');
    // Back: the live call ends by itself (bounded wait), with what Docker recorded.
    const liveEnded = await waitFor(() => ended, 60_000);
    if (!liveEnded) session.cancel();
    const live = await draining;
    const probe = await probeSession(s).catch((e: Error) => ({ alive: alive(s.pid()), exact: false, exitCode: -1, error: e.message }));
    // A later attach says the same.
    const again = s.client.attach({ sessionId });
    let againEnded = false;
    const againDrain = drain(again).finally(() => (againEnded = true));
    if (!(await waitFor(() => againEnded, 20_000))) again.cancel();
    const after = await againDrain;
    // Reconciliation: the ended session's container does not stay behind on the engine.
    const leftBehind = () => engine.docker('ps', '-aq', '--filter', `label=exec-stream.session=${sessionId}`);
    const left = (await waitFor(() => leftBehind() === '', 30_000)) ? '' : leftBehind();
    const lines = (out: string) => out.split('\n').length - 1;
    recordFigures(`docker-engine-${how}`, {
      signalToDockerd: how === 'stop' ? 'SIGTERM' : 'SIGKILL',
      engineDownAfterMs: engineDownMs,
      aliveDuringOutage,
      liveEndedDuringOutage,
      statusDuringOutage,
      startDuringOutage,
      live: {
        ended: liveEnded,
        exitCode: live.exitCode,
        code: live.code,
        details: live.details.slice(0, 200),
        stdoutLines: lines(live.stdout),
        prefixExact: EXPECTED.startsWith(live.stdout),
      },
      laterAttach: {
        exitCode: after.exitCode,
        code: after.code,
        details: after.details.slice(0, 200),
        stdoutLines: lines(after.stdout),
        sameBytes: after.stdout === live.stdout,
      },
      probe,
      containerLeftBehind: left !== '',
      aliveAfter: alive(s.pid()),
    });
    expect(aliveDuringOutage).toBe(true);
    // Docker cannot be asked: UNAVAILABLE (never an answer from what the service remembers, never NOT_FOUND).
    expect(statusDuringOutage.outcome).toBe('UNAVAILABLE');
    expect(startDuringOutage.outcome).toBe('UNAVAILABLE');
    expect(liveEnded).toBe(true);
    expect(EXPECTED.startsWith(live.stdout)).toBe(true); // exact bytes, in order, none twice
    expect(TRUE_CODES).toContain(live.exitCode);
    if (live.exitCode === 7) expect(live.stdout).toBe(EXPECTED); // it ran to its end: every byte
    expect(after.exitCode).toBe(live.exitCode);
    expect(after.stdout).toBe(live.stdout);
    expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
    expect(left).toBe('');
  });
});
