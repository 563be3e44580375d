import { ExecError } from '../../common/errors';
import type { OutputSink, StreamName } from '../container-runtime';

/**
 * Sits between Docker's log of a container (read from its very first byte) and a session's sink
 * after a restart: per stream, it drops the bytes the session already recorded and passes on the rest,
 * in Docker's order. Counting bytes per stream rather than comparing timestamps is what makes the
 * boundary exact: the recorded chunks carry the service's receive times, not Docker's, and the
 * `local` log driver keeps every byte of each stream in order.
 *
 * The bytes just before each skip point are compared with the tail of what was recorded: if Docker's
 * log no longer starts at the container's first byte (rotated away) the counts would line up wrong,
 * and this fails with data_loss instead of serving misaligned bytes.
 *
 * A pass that ended early (the log stream closed while the container still ran) is followed by
 * another from the start: `rewind()` keeps what was passed on as recorded, so nothing is sent twice.
 */
export class LogSkipper implements OutputSink {
  private readonly known: Record<StreamName, number>;
  private pos: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private checkTails = true;

  constructor(
    private readonly sink: OutputSink,
    recorded: Record<StreamName, number>,
    private readonly recordedTail: Record<StreamName, Buffer>,
    private readonly what: string,
  ) {
    this.known = { ...recorded };
  }

  /** Bytes of each stream seen in the current pass. */
  get seen(): Record<StreamName, number> {
    return { ...this.pos };
  }

  /** Bytes of each stream now recorded (before + passed on). */
  get recorded(): Record<StreamName, number> {
    return { ...this.known };
  }

  write(stream: StreamName, data: Buffer): void {
    const start = this.pos[stream];
    const end = start + data.length;
    this.pos[stream] = end;
    const known = this.known[stream];
    if (this.checkTails) this.checkTail(stream, data, start, end, known);
    if (end <= known) return;
    const fresh = start >= known ? data : data.subarray(known - start);
    this.known[stream] = end;
    this.sink.write(stream, fresh);
  }

  /** Call when a pass ended: says whether Docker's log held at least what was recorded. */
  verifyComplete(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pos[stream] < this.known[stream]) {
        throw new ExecError(
          'data_loss',
          `${this.what}: Docker's log holds ${this.pos[stream]} bytes of ${stream} but ${this.known[stream]} were recorded: ` +
            "its log no longer starts at the container's first byte, so the output produced while exec-stream was down cannot be placed",
        );
      }
    }
  }

  /** Before another pass from the start of the log. */
  rewind(): void {
    this.pos = { stdout: 0, stderr: 0 };
    this.checkTails = false; // the first pass checked the boundary; later passes align on our own bytes
  }

  private checkTail(stream: StreamName, data: Buffer, start: number, end: number, known: number): void {
    const tail = this.recordedTail[stream];
    const tailStart = known - tail.length;
    const from = Math.max(start, tailStart);
    const to = Math.min(end, known);
    if (from >= to) return;
    if (!data.subarray(from - start, to - start).equals(tail.subarray(from - tailStart, to - tailStart))) {
      throw new ExecError(
        'data_loss',
        `${this.what}: Docker's log of ${stream} differs from the recorded output at bytes ${from}..${to}: ` +
          'its log no longer starts at the first byte (rotated?), so new output cannot be placed exactly',
      );
    }
  }
}
