import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { StartedProcess } from '../../executor';

/** Largest SessionRequest.stdin message accepted (documented in docs/PROTOCOL.md). */
export const MAX_STDIN_CHUNK = 1024 * 1024;
/** Resizes closer together than this are folded into the latest one. */
export const RESIZE_DEBOUNCE_MS = 50;
import { DEFAULT_TTY as DEFAULT_TERMINAL } from '../../executor';

export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * A session's way in: stdin and terminal size. One client writes at a time: the call that started the
 * session, or a later attach that presents the starter's non-empty client_id (a resumed client). Stdin
 * is passed through with back-pressure: write() says when to stop reading the client, and onDrain says
 * when to go on, so a fast sender is slowed by gRPC flow control rather than buffered here.
 */
export class ProcessInput {
  private ended = false;
  private pending?: TerminalSize;
  private timer?: NodeJS.Timeout;
  size?: TerminalSize;

  constructor(
    private readonly process: StartedProcess,
    readonly starterClientId: string,
    private readonly logger: Logger,
    /** Told each size once the terminal has it (the session records it beside its output). */
    private readonly onResized?: (size: TerminalSize) => void,
  ) {
    this.process.stdin?.on('error', (err) => this.logger.warn({ err: err.message }, 'stdin write failed'));
    if (process.resize) this.size = { ...DEFAULT_TERMINAL };
  }

  get open(): boolean {
    return !!this.process.stdin && !this.ended;
  }

  /** May this client write stdin / resize? */
  mayWrite(isStarter: boolean, clientId: string | undefined): boolean {
    return isStarter || (!!clientId && clientId === this.starterClientId);
  }

  /**
   * A writer's call ended without a half-close (cancel, dropped connection, refused message). With a
   * starter client_id stdin stays open until the process ends, for that client to come back to; without
   * one nobody could ever write again, so it is EOF.
   */
  writerLeft(): void {
    if (!this.starterClientId) this.end();
  }

  /** Writes one stdin message; an empty one means EOF. Returns false when the caller should wait for drain. */
  write(data: Buffer): boolean {
    if (!this.process.stdin) {
      throw new ExecError('precondition', 'stdin is not open for this session: start it with open_stdin (or tty)', { reason: 'STDIN_NOT_OPEN' });
    }
    if (data.length > MAX_STDIN_CHUNK) {
      throw new ExecError('invalid', `stdin message of ${data.length} bytes is over the ${MAX_STDIN_CHUNK}-byte limit`, {
        reason: 'FIELD_INVALID',
        field: 'stdin',
      });
    }
    if (this.ended) throw new ExecError('precondition', 'stdin was already closed (EOF)', { reason: 'STDIN_NOT_OPEN', metadata: { stdin: 'closed' } });
    if (data.length === 0) {
      this.end();
      return true;
    }
    return this.process.stdin.write(data);
  }

  onDrain(fn: () => void): void {
    this.process.stdin?.once('drain', fn);
  }

  /** EOF on the process's stdin; output goes on. */
  end(): void {
    if (this.ended || !this.process.stdin) return;
    this.ended = true;
    this.process.stdin.end();
  }

  /** Applies the latest of a burst of resizes, once the burst has paused. */
  resize(width: number, height: number): void {
    if (!this.process.resize) throw new ExecError('precondition', 'resize needs a tty session', { reason: 'NOT_A_TTY' });
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width > 10_000 || height > 10_000) {
      throw new ExecError('invalid', `terminal size ${width}x${height}: Width and Height must be 1..10000`, { reason: 'FIELD_INVALID', field: 'resize' });
    }
    this.pending = { width, height };
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.applyPending(), RESIZE_DEBOUNCE_MS);
  }

  /** Sets the terminal to its current size now (at start: Docker's tty starts 0x0). */
  async applyInitial(): Promise<void> {
    if (!this.process.resize || !this.size) return;
    const size = this.size;
    await this.process.resize(size.width, size.height).then(
      () => this.onResized?.(size),
      () => undefined,
    );
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  private async applyPending(): Promise<void> {
    const size = this.pending;
    this.pending = undefined;
    if (!size || !this.process.resize) return;
    try {
      await this.process.resize(size.width, size.height);
      this.size = size;
      this.onResized?.(size);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, size }, 'resize failed');
    }
  }
}
