/**
 * The local terminal: raw mode while a tty session is in front, restored on every way out (normal end,
 * error, signal, detach, process exit), and its size for Resize messages.
 */
export class LocalTerminal {
  private raw = false;
  private readonly onExit = () => this.restore();

  /** Whether stdin is a terminal that raw mode applies to. */
  get isTty(): boolean {
    return !!process.stdin.isTTY;
  }

  /** Raw mode on stdin (keys go through as typed: Ctrl-C, Ctrl-D, arrows). No-op unless stdin is a terminal. */
  enterRaw(): void {
    if (!this.isTty || this.raw) return;
    process.stdin.setRawMode(true);
    this.raw = true;
    process.once('exit', this.onExit);
  }

  /** Back to the mode the terminal had before (idempotent). */
  restore(): void {
    if (!this.raw) return;
    this.raw = false;
    process.removeListener('exit', this.onExit);
    try {
      process.stdin.setRawMode(false);
    } catch {
      /* the terminal is gone */
    }
  }

  /** stdout's size when it is a terminal. */
  size(): { width: number; height: number } | undefined {
    const out = process.stdout;
    return out.isTTY && out.columns && out.rows ? { width: out.columns, height: out.rows } : undefined;
  }

  /** Calls `listener` with the new size on every SIGWINCH; returns the unsubscribe. */
  onResize(listener: (size: { width: number; height: number }) => void): () => void {
    if (!process.stdout.isTTY) return () => undefined;
    const handler = () => {
      const s = this.size();
      if (s) listener(s);
    };
    process.stdout.on('resize', handler);
    return () => process.stdout.removeListener('resize', handler);
  }
}

/** Writes to a local stream, waiting while it is full (flow control back to the session). */
export function writeOut(stream: NodeJS.WriteStream, data: Buffer): Promise<void> {
  if (stream.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.removeListener('drain', done);
      stream.removeListener('error', done);
      stream.removeListener('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}

/** Resolves once everything written to stdout and stderr has been handed to the OS. */
export function flushed(): Promise<void> {
  const flush = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined);
}
