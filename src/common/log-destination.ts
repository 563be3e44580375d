import { constants, fstatSync, openSync, write, writeSync } from 'node:fs';

export interface LogDestinationOptions {
  /** Where the lines go (stdout). */
  fd?: number;
  /** Where a drop is said (stderr). */
  noticeFd?: number;
  /** Lines waiting for the write in flight, at most this many bytes; a line beyond it is dropped. */
  maxQueuedBytes?: number;
  /** A full pipe (EAGAIN: a non-blocking fd whose reader is slow) is tried again after this. */
  busyMs?: number;
  /** At exit, how long a full pipe is waited on in all before what is left is dropped. */
  exitWaitMs?: number;
  /** false: every write through the thread pool, whatever `fd` is (what a socket gets; for its tests). */
  reopen?: boolean;
}

const waiter = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where the service's log lines go (pino's stream: `write` takes one whole line), written so that a log
 * reader that stalls never stops the service, and a write that fails never does either. Where the lines go
 * decides how they are written:
 * - a pipe, a FIFO or a terminal is opened again (`/proc/self/fd/N`) non-blocking, and written on the
 *   event loop: a full pipe answers EAGAIN at once, never blocking; a regular file is written as it is
 *   (a write waits on the disk, never on a reader);
 * - anything else (a socket, or a pipe with no reader at start) goes through libuv's thread pool, as
 *   pino's own destination does: a stalled reader there holds one of the pool's threads, and a
 *   `process.exit` while that write waits waits with it (libuv joins its threads at exit).
 * Lines are written as they come; while a write waits, later lines are queued (at most `maxQueuedBytes`,
 * 16 MiB; beyond it they are dropped until the queue is taken) and go in the next write. Unlike pino's
 * destination (sonic-boom 4.2), which threw a write error into the code that logged and at exit retried
 * it for ever:
 * - a full pipe (EAGAIN) is tried again every `busyMs` (100 ms);
 * - any other error (a full disk, an I/O error, a closed pipe) drops that write's lines; the next lines
 *   are tried as they come;
 * - `flushSync` (at the process's exit) writes what waits, synchronously, waits on a full pipe at most
 *   `exitWaitMs` (2 s) in all, and drops what is left on any other error: with a pipe, a FIFO, a terminal
 *   or a file, an exit always ends. A write in the thread pool at that moment is left to it.
 * Every drop is counted (`dropped`, in lines); the first, and each change of its reason, is said on
 * `noticeFd` (stderr), one line each.
 */
export class LogDestination {
  /** Lines dropped since the start. */
  dropped = 0;
  private readonly fd: number;
  /** `fd` opened again non-blocking, or `fd` itself for a regular file: written on the event loop; else the thread pool. */
  private readonly direct?: number;
  private readonly noticeFd: number;
  private readonly maxQueuedBytes: number;
  private readonly busyMs: number;
  private readonly exitWaitMs: number;
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** A write that met a full pipe, waiting for its retry (not in the thread pool): the exit flush writes it first. */
  private waiting?: { buf: Buffer; lines: number; timer: NodeJS.Timeout };
  private lastReason?: string;

  constructor(options: LogDestinationOptions = {}) {
    this.fd = options.fd ?? 1;
    this.noticeFd = options.noticeFd ?? 2;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.busyMs = options.busyMs ?? 100;
    this.exitWaitMs = options.exitWaitMs ?? 2000;
    if (options.reopen !== false) this.direct = directWriter(this.fd);
  }

  write(line: string): boolean {
    if (this.queuedBytes + line.length > this.maxQueuedBytes) {
      this.drop(1, `the reader is ${this.maxQueuedBytes} bytes behind`);
      return true;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (!this.writing) this.writeQueued();
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
      this.writing = false; // that was the one write: none is in flight now
    }
    const deadline = Date.now() + this.exitWaitMs;
    while (rest.length) {
      try {
        rest = rest.subarray(writeSync(this.direct ?? this.fd, rest));
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
    this.queuedBytes = 0;
    return buf;
  }

  private writeQueued(): void {
    const lines = this.queue.length;
    this.writing = lines > 0;
    if (this.writing) this.writeOut(this.take(), lines);
  }

  private writeOut(buf: Buffer, lines: number): void {
    if (this.direct === undefined) {
      write(this.fd, buf, 0, buf.length, null, (err, n) => this.written(err ? buf : buf.subarray(n), lines, err ?? undefined));
      return;
    }
    let rest = buf;
    try {
      while (rest.length) rest = rest.subarray(writeSync(this.direct, rest));
    } catch (err) {
      return this.written(rest, lines, err);
    }
    this.written(rest, lines);
  }

  /** After a write: `rest` is what it did not take, `err` why. */
  private written(rest: Buffer, lines: number, err?: unknown): void {
    if (err === undefined && rest.length) return this.writeOut(rest, lines);
    if (err !== undefined) {
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
      writeSync(this.noticeFd, `exec-stream: log lines to fd ${this.fd} are being dropped (${reason})\n`);
    } catch {
      /* nowhere left to say it */
    }
  }
}

/** `fd` opened again non-blocking when it is a pipe, a FIFO or a terminal; `fd` itself when a regular file; else undefined. */
function directWriter(fd: number): number | undefined {
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) return fd;
    if (stat.isFIFO() || stat.isCharacterDevice()) return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    /* no /proc, a pipe with no reader (ENXIO): the thread pool */
  }
  return undefined;
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);
