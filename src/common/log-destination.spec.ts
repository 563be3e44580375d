import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogDestination } from './log-destination';
import { createRootLogger } from './logger';

let dir: string;
const fds: number[] = [];
const open = (path: string, flags: string | number) => {
  const fd = openSync(path, flags);
  fds.push(fd);
  return fd;
};
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'log-destination-'))));
afterEach(() => {
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      /* closed by the test */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
const parsed = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A named pipe holding both ends in one fd (O_RDWR), as a log pipe whose reader has stopped; and a reader's fd for it. */
function fifo(nonBlocking: boolean): { fd: number; reader: () => number } {
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  const fd = open(path, constants.O_RDWR | (nonBlocking ? constants.O_NONBLOCK : 0));
  return { fd, reader: () => open(path, constants.O_RDONLY | constants.O_NONBLOCK) };
}
/** Fills a non-blocking pipe until it takes no more. */
function fill(fd: number): void {
  const block = Buffer.alloc(4096, 0x20);
  for (;;) {
    try {
      writeSync(fd, block);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('EAGAIN');
      return;
    }
  }
}
/** Everything readable from a non-blocking fd now. */
function drain(fd: number): Buffer {
  const parts: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw err;
    }
    if (n === 0) break;
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(parts);
}

/**
 * A process that logs ~20 MB through a destination on fd 1 (notices on fd 2; exit wait 500 ms), then after 300 ms
 * writes what it saw to `result` and calls process.exit (flushSync on 'exit', as logger.ts does).
 */
const CHILD = `
const { LogDestination } = await import(process.argv[1]);
const { writeFileSync } = await import('node:fs');
const d = new LogDestination({ exitWaitMs: 500 });
let ticks = 0;
setInterval(() => ticks++, 10);
for (let i = 0; i < 200000; i++) d.write('{"i":' + i + ',"pad":"' + 'x'.repeat(80) + '"}\\n');
setTimeout(() => {
  writeFileSync(process.argv[2], JSON.stringify({ pid: process.pid, ticks, dropped: d.dropped, uid: process.getuid() }));
  process.on('exit', () => d.flushSync());
  process.exit(0);
}, 300);
`;
const NODE = join(__dirname, '../../node_modules/.bin/node');
const childArgs = (result: string) => [
  '--disable-warning=ExperimentalWarning',
  '--disable-warning=MODULE_TYPELESS_PACKAGE_JSON',
  '--input-type=module',
  '--eval',
  CHILD,
  join(__dirname, 'log-destination.ts'),
  result,
];
/** Waits (bounded) for the child's result, then for its process to end; how long that took after the result. */
async function resultThenEnd(result: string): Promise<{ pid: number; ticks: number; dropped: number; uid: number; endedMs: number }> {
  await until('the child result', () => existsSync(result) && readFileSync(result, 'utf8').length > 0, 20_000);
  const r = JSON.parse(readFileSync(result, 'utf8')) as { pid: number; ticks: number; dropped: number; uid: number };
  const t0 = Date.now();
  await until(
    'the child gone',
    () => {
      try {
        process.kill(r.pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    20_000,
  );
  return { ...r, endedMs: Date.now() - t0 };
}

describe('LogDestination', () => {
  it('writes every line whole and in order, as pino made it', async () => {
    const path = join(dir, 'out');
    const log = createRootLogger('info', new LogDestination({ fd: open(path, 'w') }));
    for (let i = 0; i < 500; i++) log.info({ i }, 'line');
    log.warn('last');
    await until('501 lines', () => readFileSync(path, 'utf8').split('\n').length === 502);
    const lines = parsed(readFileSync(path, 'utf8'));
    expect(lines.slice(0, 500).map((l) => l.i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(lines.map((l) => [l.msg, l.level, l.service])[500]).toEqual(['last', 40, 'exec-stream']);
  });

  it('drops lines that cannot be written (stdout on a full disk: /dev/full), never throwing, and says so once per reason', () => {
    const notices = join(dir, 'notices');
    const full = open('/dev/full', 'w');
    const destination = new LogDestination({ fd: full, noticeFd: open(notices, 'w') });
    const log = createRootLogger('info', destination);
    for (let i = 0; i < 5; i++) expect(() => log.info({ i }, 'into a full disk')).not.toThrow();
    expect(destination.dropped).toBe(5); // written at once: dropped at once
    closeSync(full); // now EBADF: another reason, said once more
    expect(() => log.error('into a closed fd')).not.toThrow();
    expect(destination.dropped).toBe(6);
    expect(readFileSync(notices, 'utf8')).toBe(
      `exec-stream: log lines to fd ${full} are being dropped (ENOSPC)\nexec-stream: log lines to fd ${full} are being dropped (EBADF)\n`,
    );
  });

  it('a reader that stops (a blocking pipe, full) never stops the event loop; lines past the bound are dropped, the rest arrive whole, in order', async () => {
    const pipe = fifo(false);
    const destination = new LogDestination({ fd: pipe.fd, noticeFd: open(join(dir, 'notices'), 'w'), maxQueuedChars: 64 * 1024 });
    const log = createRootLogger('info', destination);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      // ~400 KB into a 64 KiB pipe nobody reads (a blocking write to it would never return).
      for (let i = 0; i < 4000; i++) log.info({ i, pad: 'x'.repeat(40) }, 'into a stalled pipe');
      await sleep(500);
      expect(ticks).toBeGreaterThan(10);
      expect(destination.dropped).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
    const reader = pipe.reader();
    const got: Buffer[] = [];
    const text = () => Buffer.concat(got).toString();
    await until('every line not dropped', () => {
      got.push(drain(reader));
      return text().split('\n').length - 1 === 4000 - destination.dropped;
    });
    const is = parsed(text()).map((l) => l.i as number);
    expect(is.every((v, k) => k === 0 || v > is[k - 1])).toBe(true);
    expect(is[0]).toBe(0);
  });

  it('a full non-blocking pipe (EAGAIN) is waited on, and the lines arrive once it is read', async () => {
    const pipe = fifo(true);
    fill(pipe.fd);
    const destination = new LogDestination({ fd: pipe.fd, busyMs: 20 });
    const log = createRootLogger('info', destination);
    for (let i = 0; i < 3; i++) log.info({ i }, 'waits');
    await sleep(100); // a few retries meet EAGAIN
    const reader = pipe.reader();
    const got: Buffer[] = [];
    await until('the three lines', () => {
      got.push(drain(reader));
      return Buffer.concat(got).toString().trimStart().split('\n').length === 4;
    });
    expect(parsed(Buffer.concat(got).toString().trimStart()).map((l) => l.i)).toEqual([0, 1, 2]);
    expect(destination.dropped).toBe(0);
  });

  it('flushSync (at exit) writes what waits, and always ends: on a full pipe after its wait, on a failing write at once', () => {
    const pipe = fifo(true);
    const noticeFd = open(join(dir, 'notices'), 'w');
    const out = join(dir, 'out');
    const toFile = new LogDestination({ fd: open(out, 'w') });
    toFile.write('{"queued":1}\n');
    toFile.write('{"queued":2}\n');
    toFile.flushSync(); // nothing waits: a file takes every line at once
    expect(readFileSync(out, 'utf8')).toBe('{"queued":1}\n{"queued":2}\n');

    fill(pipe.fd);
    // the pipe as the service's stdout would be: blocking (only its holder's fd is non-blocking)
    const blocking = open(join(dir, 'pipe'), constants.O_RDWR);
    const stalled = new LogDestination({ fd: blocking, noticeFd, exitWaitMs: 200 });
    for (let i = 0; i < 3; i++) stalled.write(`{"i":${i}}\n`);
    const t0 = Date.now();
    stalled.flushSync();
    expect(Date.now() - t0).toBeLessThan(5000); // bounded (200 ms asked): sonic-boom's loop never ended
    expect(stalled.dropped).toBe(3); // the first, waiting on EAGAIN, and the two behind it

    // Lines waiting on the full pipe when its fd goes bad (EBADF): dropped at once, not waited on.
    const closing = openSync(join(dir, 'pipe'), constants.O_RDWR);
    const gone = new LogDestination({ fd: closing, noticeFd, exitWaitMs: 60_000 });
    gone.write('{"a":1}\n');
    gone.write('{"a":2}\n');
    closeSync(closing);
    const t1 = Date.now();
    gone.flushSync();
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(gone.dropped).toBe(2);
    expect(readFileSync(join(dir, 'notices'), 'utf8')).toMatch(/\(EAGAIN\)\n.*\(EBADF\)\n$/s);
  });
  it('as a user who does not own the pipe (the image runs as node), stdout and stderr on one pipe nobody reads: the loop goes on, lines past the bound are dropped, process.exit ends after its exit wait (500 ms here)', async () => {
    const result = join(dir, 'result.json');
    chmodSync(dir, 0o777);
    const asOther = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    // the pipe is made by bash, as root; `sleep` holds its read end and never reads
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const shell = spawn('bash', ['-c', `${[...asOther, NODE, ...childArgs(result)].map(quote).join(' ')} 2>&1 | sleep 30`], {
      stdio: 'ignore',
      detached: true,
    });
    try {
      const r = await resultThenEnd(result);
      if (asOther.length) expect(r.uid).toBe(65534);
      expect(r.ticks).toBeGreaterThan(5);
      expect(r.dropped).toBeGreaterThan(0);
      expect(r.endedMs).toBeLessThan(10_000); // the exit wait, and a loaded machine's slack; it never ended before
    } finally {
      process.kill(-shell.pid!, 'SIGKILL');
    }
  }, 60_000);

  it('stdout a socket its parent never reads (a Node parent, journald): the loop goes on, process.exit ends after its exit wait (500 ms here)', async () => {
    const result = join(dir, 'result.json');
    const child = spawn(NODE, childArgs(result), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    child.stderr.pause();
    try {
      const r = await resultThenEnd(result);
      expect(r.ticks).toBeGreaterThan(5);
      expect(r.dropped).toBeGreaterThan(0);
      expect(r.endedMs).toBeLessThan(10_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
