import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ControlClient } from '@exec-stream/client';
import { buildService } from '../support/child-service';
import { freePort } from '../support/free-port';
import { closeAll, idleConnections } from '../support/idle-connections';
import { BASE_IMAGE } from '../support/server';
import { alive, processUsage, recordFigures, tally } from './support/figures';
import { probeSession, serviceUnderTest, waitFor, type ServiceUnderTest } from './support/service';

/** The service's fd limit (soft = hard), and more idle metrics connections than that: issue 23's attack. */
const NOFILE = 600;
const IDLE_CONNECTIONS = 640;
/** Scrapers looping GET /metrics at once: twice what the port admits. */
const SCRAPERS = 64;
const FLOOD_MS = 8_000;
/** ContainerStatus calls timed in a row, without the flood and during it. */
const STATUS_CALLS = 200;

let s: ServiceUnderTest;
let metricsPort: number;
let containerId: string;
beforeAll(async () => {
  buildService();
  metricsPort = await freePort();
  s = await serviceUnderTest({ EXEC_METRICS_LISTEN: `127.0.0.1:${metricsPort}` });
  execFileSync('prlimit', ['--pid', String(s.pid()), `--nofile=${NOFILE}:${NOFILE}`]);
  // A running container to ask ContainerStatus about (ended with the test).
  const run = s.client.run(BASE_IMAGE, { command: ['sleep', '120'] });
  ({ containerId } = await run.ready);
}, 120_000);
afterAll(async () => {
  if (containerId) execFileSync('docker', ['rm', '-f', containerId], { stdio: 'ignore' });
  await s?.dispose();
});

/**
 * A scrape flood as a script for `node -e`: argv port, loops, milliseconds; prints the answers by kind and
 * how many distinct renders (X-Exec-Rendered-At) they came from, as JSON.
 */
const SCRAPER = `
const [port, loops, ms] = process.argv.slice(1).map(Number);
const scrapes = {};
const renders = new Set();
const until = Date.now() + ms;
const count = (k) => (scrapes[k] = (scrapes[k] || 0) + 1);
Promise.all(Array.from({ length: loops }, async () => {
  while (Date.now() < until) {
    try {
      const res = await fetch('http://127.0.0.1:' + port + '/metrics');
      const body = await res.arrayBuffer();
      count(res.status === 200 && body.byteLength > 1000 ? '200' : 'HTTP ' + res.status);
      renders.add(res.headers.get('x-exec-rendered-at'));
    } catch {
      count('connection closed');
    }
  }
})).then(() => process.stdout.write(JSON.stringify({ scrapes, renders: renders.size })));
`;

/** Times `count` ContainerStatus calls in a row on one channel: p50, p99, max (ms) and the codes. */
async function timedStatuses(count: number, keepGoing: () => boolean = () => true) {
  const control = new ControlClient(s.connection);
  const ms: number[] = [];
  const codes: Record<string, number> = {};
  for (let i = 0; i < count && keepGoing(); i++) {
    const t0 = performance.now();
    const outcome = await control.status(containerId).then(
      () => 'OK',
      (e: { code?: number }) => `code ${e.code}`,
    );
    ms.push(performance.now() - t0);
    tally(codes, outcome);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] * 10) / 10;
  return { calls: ms.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), codes };
}

/** CPU seconds (user + system) the process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

it(`under a ${NOFILE}-fd limit, ${IDLE_CONNECTIONS} idle metrics connections leave gRPC serving, and are all closed`, async () => {
  await timedStatuses(5); // the channel is connected before the attack
  const before = processUsage(s.pid());
  const t0 = Date.now();
  const sockets = await idleConnections(metricsPort, IDLE_CONNECTIONS);
  const closedMs = () => sockets.flatMap((c) => (c.closedAt === undefined ? [] : [c.closedAt - t0]));
  const during = processUsage(s.pid());
  const statuses = await timedStatuses(50);
  let probe = { alive: false, exact: false, exitCode: -1 };
  probe = await probeSession(s).catch((e: Error) => ({ ...probe, error: e.message }));
  const allClosed = await waitFor(() => closedMs().length === IDLE_CONNECTIONS, 30_000);
  const closed = closedMs().sort((a, b) => a - b);
  closeAll(sockets);
  recordFigures('metrics-idle-connections', {
    nofile: NOFILE,
    idleConnections: IDLE_CONNECTIONS,
    fdsBefore: before.fds,
    fdsDuring: during.fds,
    statuses,
    probe,
    closedByService: closed.length,
    closedWithinMs: { first: closed[0], median: closed[Math.floor(closed.length / 2)], last: closed.at(-1) },
  });
  expect(statuses.codes).toEqual({ OK: 50 });
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
  expect(allClosed).toBe(true);
  expect(during.fds).toBeLessThan(before.fds + 64);
}, 120_000);

it(`a flood of scrapes (${SCRAPERS} loops for ${FLOOD_MS / 1000} s) is served from one render per 250 ms while every ContainerStatus answers`, async () => {
  const quiet = await timedStatuses(STATUS_CALLS);
  const pid = s.pid();
  const fdsBefore = processUsage(pid).fds;
  const cpuBefore = cpuSeconds(pid);
  // The scrapers run in a process of their own, so that the calls timed here share no event loop with them.
  const floodStarted = Date.now();
  const flood = promisify(execFile)(process.execPath, ['-e', SCRAPER, String(metricsPort), String(SCRAPERS), String(FLOOD_MS)]).then(
    ({ stdout }) => JSON.parse(stdout) as { scrapes: Record<string, number>; renders: number },
  );
  let fdsPeak = fdsBefore;
  const sampler = setInterval(() => (fdsPeak = Math.max(fdsPeak, processUsage(pid).fds)), 100);
  const flooded = await timedStatuses(STATUS_CALLS, () => Date.now() - floodStarted < FLOOD_MS);
  const { scrapes, renders } = await flood;
  clearInterval(sampler);
  const floodMs = Date.now() - floodStarted;
  const cpu = Math.round((cpuSeconds(pid) - cpuBefore) * 100) / 100;
  const probe = await probeSession(s);
  recordFigures('metrics-scrape-flood', {
    scrapers: SCRAPERS,
    floodMs,
    scrapes,
    renders,
    serviceCpuSeconds: cpu,
    fdsBefore,
    fdsPeak,
    statusWithoutFlood: quiet,
    statusDuringFlood: flooded,
    probe,
  });
  expect(quiet.codes).toEqual({ OK: STATUS_CALLS });
  expect(Object.keys(flooded.codes)).toEqual(['OK']);
  expect(scrapes['200']).toBeGreaterThan(0);
  expect(Object.keys(scrapes).filter((k) => k !== '200' && k !== 'connection closed')).toEqual([]);
  expect(renders).toBeLessThanOrEqual(1 + Math.floor(floodMs / 250));
  expect(fdsPeak).toBeLessThan(fdsBefore + 64);
  expect(alive(pid)).toBe(true);
  expect(probe).toEqual({ alive: true, exact: true, exitCode: 3 });
}, 120_000);
