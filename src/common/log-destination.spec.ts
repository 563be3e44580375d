import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
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

  it('drops lines that cannot be written (stdout on a full disk: /dev/full), never throwing, and says so once per reason', async () => {
    const notices = join(dir, 'notices');
    const noticeFd = open(notices, 'w');
    const reopened = new LogDestination({ fd: open('/dev/full', 'w'), noticeFd });
    for (let i = 0; i < 5; i++) expect(() => createRootLogger('info', reopened).info({ i }, 'into a full disk')).not.toThrow();
    expect(reopened.dropped).toBe(5); // written on the event loop: dropped at once
    // Through the thread pool, as a socket is written: the same; then its fd closed, another reason, said once more.
    const full = open('/dev/full', 'w');
    const pooled = new LogDestination({ fd: full, noticeFd, reopen: false });
    const log = createRootLogger('info', pooled);
    for (let i = 0; i < 5; i++) expect(() => log.info({ i }, 'into a full disk')).not.toThrow();
    await until('5 dropped', () => pooled.dropped === 5);
    closeSync(full);
    expect(() => log.error('into a closed fd')).not.toThrow();
    await until('6 dropped', () => pooled.dropped === 6);
    expect(readFileSync(notices, 'utf8').split('\n')).toEqual([
      expect.stringMatching(/^exec-stream: log lines to fd \d+ are being dropped \(ENOSPC\)$/),
      `exec-stream: log lines to fd ${full} are being dropped (ENOSPC)`,
      `exec-stream: log lines to fd ${full} are being dropped (EBADF)`,
      '',
    ]);
  });

  it.each([
    ['opened again non-blocking, written on the event loop', true],
    ['written through the thread pool (as a socket is)', false],
  ])(
    'a reader that stops (a blocking pipe, full) never stops the event loop (%s); lines past the bound are dropped, the rest arrive whole, in order',
    async (_, reopen) => {
      const pipe = fifo(false);
      const destination = new LogDestination({ fd: pipe.fd, noticeFd: open(join(dir, 'notices'), 'w'), maxQueuedBytes: 64 * 1024, reopen });
      const log = createRootLogger('info', destination);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      try {
        // ~400 KB into a 64 KiB pipe nobody reads (a synchronous write to it would never return).
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
    },
  );

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

  it('flushSync (at exit) writes what waits, and always ends: on a full pipe after its wait, on a full disk at once', () => {
    const pipe = fifo(true);
    const noticeFd = open(join(dir, 'notices'), 'w');
    const out = join(dir, 'out');
    const toFile = new LogDestination({ fd: open(out, 'w') });
    toFile.write('{"queued":1}\n'); // in flight (the thread pool)
    toFile.write('{"queued":2}\n'); // queued behind it
    toFile.flushSync();
    expect(readFileSync(out, 'utf8')).toContain('{"queued":2}\n');

    fill(pipe.fd);
    // the pipe as the service's stdout would be: blocking (only its holder's fd is non-blocking)
    const blocking = open(join(dir, 'pipe'), constants.O_RDWR);
    const stalled = new LogDestination({ fd: blocking, noticeFd, exitWaitMs: 200 });
    for (let i = 0; i < 3; i++) stalled.write(`{"i":${i}}\n`);
    const t0 = Date.now();
    stalled.flushSync();
    expect(Date.now() - t0).toBeLessThan(5000); // bounded (200 ms asked): sonic-boom's loop never ended
    expect(stalled.dropped).toBe(3); // the first, waiting on EAGAIN, and the two behind it

    const full = new LogDestination({ fd: open('/dev/full', 'w'), noticeFd });
    full.write('{"a":1}\n');
    full.write('{"a":2}\n');
    full.flushSync();
    expect(full.dropped).toBeGreaterThanOrEqual(1);
    expect(readFileSync(join(dir, 'notices'), 'utf8')).toMatch(/\(EAGAIN\)\n.*\(ENOSPC\)\n$/s);
  });
});
