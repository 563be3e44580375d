import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { isatty } from 'node:tty';

export interface LogDestinationOptions {
  /** Where the lines go (stdout). */
  fd?: number;
  /** Where a drop is said (stderr). */
  noticeFd?: number;
  /** Lines waiting for a full pipe, at most this many characters; a line beyond it is dropped. */
  maxQueuedChars?: number;
  /** A full pipe (EAGAIN: a non-blocking fd whose reader is slow) is tried again after this. */
  busyMs?: number;
  /** At exit, how long a full pipe is waited on in all before what is left is dropped. */
  exitWaitMs?: number;
}

const waiter = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where the service's log lines go (pino's stream: `write` takes one whole line), written so that a log
 * reader that stalls never stops the service, its exit included, and a write that fails never does either.
 * Every write is made at once, on the event loop, and never waits:
 * - a pipe, a FIFO or a socket (a container's stdout, a shipper's pipe, journald, a parent process) is
 *   put in non-blocking mode, as Node does for `process.stdout` (and undoes at exit): a full pipe answers
 *   EAGAIN at once, whoever owns it;
 * - a terminal is opened again (`/proc/self/fd/N`) non-blocking, as libuv does, so the mode never leaks
 *   to the shell sharing it; where that is refused, it is written as it is (a terminal stopped with
 *   Ctrl-S then holds the service);
 * - a regular file or another device (/dev/null) is written as it is (a write waits on the disk, never on
 *   a reader).
 * Lines that meet a full pipe wait, up to `maxQueuedChars` (16 Mi characters; later ones are dropped until
 * the pipe takes them), and are tried again every `busyMs` (100 ms, an unref'd timer). Unlike pino's
 * destination (sonic-boom 4.2), which threw a write error into the code that logged, retried it for ever
 * at exit, and wrote through libuv's thread pool (where a blocked write also blocks `process.exit`):
 * - any error but EAGAIN (a full disk, an I/O error, a closed pipe) drops that write's lines; the next
 *   lines are tried as they come (a line cut by such an error may leave its first part);
 * - `flushSync` (at the process's exit) writes what waits, waits on a full pipe at most `exitWaitMs` (2 s)
 *   in all, and drops what is left on any other error: an exit always ends.
 * Every drop is counted (`dropped`, in lines); the first, and each change of its reason, is said on
 * `noticeFd` (stderr, made non-blocking the same way; a notice it cannot take is lost, never waited on).
 */
export class LogDestination {
  /** Lines dropped since the start. */
  dropped = 0;
  private readonly fd: number;
  /** What the lines are written to: `fd`, non-blocking where it can wait on a reader (see writerFor). */
  private readonly out: number;
  private readonly noticeFd: number;
  private readonly notices: number;
  private readonly maxQueuedChars: number;
  private readonly busyMs: number;
  private readonly exitWaitMs: number;
  private queue: string[] = [];
  private queuedChars = 0;
  /** A write that met a full pipe, waiting for its retry (lines queue behind it): the exit flush writes it first. */
  private waiting?: { buf: Buffer; lines: number; timer: NodeJS.Timeout };
  private lastReason?: string;

  constructor(options: LogDestinationOptions = {}) {
    this.fd = options.fd ?? 1;
    this.noticeFd = options.noticeFd ?? 2;
    this.maxQueuedChars = options.maxQueuedChars ?? 16 * 1024 * 1024;
    this.busyMs = options.busyMs ?? 100;
    this.exitWaitMs = options.exitWaitMs ?? 2000;
    this.out = writerFor(this.fd);
    this.notices = writerFor(this.noticeFd);
  }

  write(line: string): boolean {
    if (this.queuedChars + line.length > this.maxQueuedChars) {
      this.drop(1, `the reader is ${this.maxQueuedChars} characters behind`);
      return true;
    }
    this.queue.push(line);
    this.queuedChars += line.length;
    if (!this.waiting) this.writeQueued();
    return true;
  }

  /** Writes what is queued now, synchronously: for the process's exit (see the class). */
  flushSync(): void {
    let lines = this.queue.length;
    let rest = this.take();
    if (this.waiting) {
      clearTimeout(this.waiting.timer);
      rest = Buffer.concat([this.waiting.buf, rest]);
      lines += this.waiting.lines;
      this.waiting = undefined;
    }
    const deadline = Date.now() + this.exitWaitMs;
    while (rest.length) {
      try {
        rest = rest.subarray(writeSync(this.out, rest));
      } catch (err) {
        const code = errorCode(err);
        if (code === 'EAGAIN' && Date.now() < deadline) {
          Atomics.wait(waiter, 0, 0, 10);
          continue;
        }
        this.drop(lines, code);
        return;
      }
    }
  }

  private take(): Buffer {
    const buf = Buffer.from(this.queue.join(''));
    this.queue = [];
    this.queuedChars = 0;
    return buf;
  }

  private writeQueued(): void {
    const lines = this.queue.length;
    if (lines) this.writeOut(this.take(), lines);
  }

  /** Writes `buf` (`lines` lines) at once; what a full pipe did not take waits for a retry, then the queue goes. */
  private writeOut(buf: Buffer, lines: number): void {
    let rest = buf;
    try {
      while (rest.length) rest = rest.subarray(writeSync(this.out, rest));
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EAGAIN') {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          this.writeOut(rest, lines);
        }, this.busyMs);
        timer.unref(); // a stalled reader never keeps the process alive: at its exit, flushSync has these lines
        this.waiting = { buf: rest, lines, timer };
        return;
      }
      this.drop(lines, code);
    }
    this.writeQueued();
  }

  private drop(lines: number, reason: string): void {
    this.dropped += lines;
    if (reason === this.lastReason) return;
    this.lastReason = reason;
    try {
      writeSync(this.notices, `exec-stream: log lines to fd ${this.fd} are being dropped (${reason})\n`);
    } catch {
      /* stderr full or gone: the count stays */
    }
  }
}

/** Handles that hold a pipe's or socket's descriptor in non-blocking mode (never written, never closed). */
const holders: Socket[] = [];

/**
 * What to write `fd`'s lines to, never waiting on a reader: `fd` itself, put in non-blocking mode when it
 * is a pipe, a FIFO or a socket (a libuv handle that is never used does it, as for `process.stdout`; one
 * already held by a handle is non-blocking already); for a terminal, the terminal opened again
 * non-blocking, or `fd` itself where that is refused; `fd` itself for anything else.
 */
function writerFor(fd: number): number {
  try {
    if (isatty(fd)) return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (stat.isFIFO() || stat.isSocket()) holders.push(new Socket({ fd, readable: false, writable: true }));
  } catch {
    /* a terminal that cannot be opened again, a descriptor a handle holds already, or none (EBADF): as it is */
  }
  return fd;
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);
