import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildService, childService, type ChildService } from '../support/child-service';
import { sha256 } from '../support/helpers';
import { BASE_IMAGE, freePort } from '../support/server';

/**
 * The service's stdout where its log lines cannot go (src/common/log-destination.ts): on a full disk
 * (/dev/full: every write fails with ENOSPC), as a service whose log file's disk filled up; and a pipe
 * whose reader has stopped, already full before the service starts, as a log shipper that hangs. Either
 * way the service starts, serves a session byte-exact with its exit code, and ends on SIGTERM; and a
 * start-up that fails ends with its exit code, not waiting on the pipe for ever.
 */
const expected = Array.from({ length: 2000 }, (_, i) => `${i + 1}\n`).join('');

async function servesAndEnds(svc: ChildService, beforeStop?: () => Promise<void>): Promise<void> {
  const r = await svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'seq 1 2000; exit 4'] }).collect();
  expect({ exitCode: r.exitCode, stdout: sha256(r.stdout), stderr: r.stderr.length }).toEqual({ exitCode: 4, stdout: sha256(expected), stderr: 0 });
  await beforeStop?.();
  expect(await svc.stop('SIGTERM', 15_000)).toMatchObject({ signal: 'SIGTERM' });
}

/** A named pipe, full, that nobody reads (its holder keeps it open); remove() when done. */
function stalledPipe(): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'log-pipe-'));
  const path = join(dir, 'stdout');
  execFileSync('mkfifo', [path]);
  const holder = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const block = Buffer.alloc(4096, 0x20);
  for (;;) {
    try {
      writeSync(holder, block);
    } catch {
      break; // EAGAIN: full
    }
  }
  return {
    path,
    remove() {
      closeSync(holder);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

beforeAll(() => buildService(), 120_000);

describe('its stdout on a full disk', () => {
  let svc: ChildService;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    svc = await childService({ EXEC_METRICS_LISTEN: `127.0.0.1:${metricsPort}` }, { stdout: '/dev/full' });
    await svc.start();
  }, 60_000);
  afterAll(() => svc?.dispose());

  it('listens, serves a session byte-exact with its exit code, counts the lines it dropped (exec_log_lines_dropped_total), and ends on SIGTERM', async () => {
    const dropped = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return Number(/^exec_log_lines_dropped_total (\d+)$/m.exec(text)?.[1]);
    };
    const before = await dropped();
    expect(before).toBeGreaterThan(0); // start-up's lines ("exec-stream listening", the modules)
    await new Promise((r) => setTimeout(r, 300)); // past the metrics' 250 ms render cache
    await servesAndEnds(svc, async () => expect(await dropped()).toBeGreaterThan(before)); // the session's lines too
  });
});

describe('its stdout a pipe nobody reads, full before it starts', () => {
  let svc: ChildService;
  let pipe: ReturnType<typeof stalledPipe>;
  beforeAll(async () => {
    pipe = stalledPipe();
    svc = await childService({ EXEC_LOG_LEVEL: 'debug' }, { stdout: pipe.path });
    await svc.start();
  }, 60_000);
  afterAll(async () => {
    await svc?.dispose();
    pipe?.remove();
  });

  it('listens, serves a session byte-exact with its exit code, and ends on SIGTERM', () => servesAndEnds(svc));

  it('a start-up that fails (EXEC_METRICS_LISTEN on a taken port) ends with exit code 1, not waiting on the pipe for ever', async () => {
    // pino's destination left that line to a thread of the pool, blocked on the pipe, and process.exit
    // waited on the thread for ever (libuv joins its threads at exit).
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const failing = await childService({ EXEC_METRICS_LISTEN: `127.0.0.1:${(taken.address() as AddressInfo).port}` }, { stdout: pipe.path });
    try {
      await expect(failing.start()).rejects.toThrow(/exited before listening \(code 1,.*log lines to fd 1 are being dropped \(EAGAIN\)/s);
    } finally {
      await failing.dispose();
      taken.close();
    }
  }, 30_000);
});
