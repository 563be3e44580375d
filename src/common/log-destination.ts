import { writeSync } from 'node:fs';

/** How long a line waits on a full pipe (EAGAIN: a slow reader) before it is tried again, as pino's own destination waits. */
const BUSY_MS = 100;
const waiter = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where the service's log lines go: one synchronous write per line to `fd` (stdout), as pino's default
 * destination does. A full pipe is waited on, BUSY_MS at a time, as before. A line that cannot be
 * written for any other reason (stdout on a full disk, a closed pipe, an I/O error) is dropped: never
 * thrown into whatever logged it and never retried, where pino's destination (sonic-boom 4) threw it
 * (uncaught from a timer) and then, at exit, retried it for ever, a process that never ends. The first
 * drop, and each change of its reason, is said once on `noticeFd` (stderr).
 */
export class LogDestination {
  /** Lines dropped since the start. */
  dropped = 0;
  private lastReason?: string;

  constructor(
    private readonly fd = 1,
    private readonly noticeFd = 2,
  ) {}

  write(line: string): void {
    let rest = Buffer.from(line);
    while (rest.length) {
      try {
        rest = rest.subarray(writeSync(this.fd, rest));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        if (code === 'EAGAIN') {
          Atomics.wait(waiter, 0, 0, BUSY_MS);
          continue;
        }
        this.drop(code);
        return;
      }
    }
  }

  private drop(reason: string): void {
    this.dropped++;
    if (reason === this.lastReason) return;
    this.lastReason = reason;
    try {
      writeSync(this.noticeFd, `exec-stream: log lines to fd ${this.fd} are being dropped (${reason})\n`);
    } catch {
      /* nowhere left to say it */
    }
  }
}
