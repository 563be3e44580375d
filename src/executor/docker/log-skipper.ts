import type { OutputSink, StreamName } from '../../common/streams';
import { ExecError } from '../../common/errors';

/**
 * Sits between a container's output read again from its very first byte (its output record, or, for a
 * container made before the record existed, Docker's log) and a session's sink after a restart: per
 * stream, it drops the bytes the session already recorded and passes on the rest, in the source's
 * order. Counting bytes per stream rather than comparing timestamps is what makes the boundary exact:
 * the recorded chunks carry the service's receive times, and the sources keep every byte of each
 * stream in order. A source that dropped its oldest bytes says where it resumes (`skipTo`).
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

  /**
   * The source's next bytes of each stream are at these positions (its older bytes are gone): fine
   * where they were recorded already, data_loss where they were not.
   */
  skipTo(position: Record<StreamName, number>): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pos[stream] >= position[stream]) continue;
      if (position[stream] > this.known[stream]) {
        throw new ExecError(
          'data_loss',
          `${this.what}: bytes ${this.known[stream]}..${position[stream]} of ${stream} were written while exec-stream was down and are no longer kept ` +
            '(the container keeps its newest EXEC_RECOVERY_RECORD_BYTES of output)',
        );
      }
      this.pos[stream] = position[stream];
    }
  }

  /** Call when a pass ended: says whether the source held at least what was recorded. */
  verifyComplete(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pos[stream] < this.known[stream]) {
        throw new ExecError(
          'data_loss',
          `${this.what} holds ${this.pos[stream]} bytes of ${stream} but ${this.known[stream]} were recorded: ` +
            "it no longer starts at the container's first byte, so the output produced while exec-stream was down cannot be placed",
        );
      }
    }
  }

  /** Before another pass from the start of the source. */
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
        `${this.what} differs from the recorded ${stream} at bytes ${from}..${to}: ` +
          'it no longer starts at the first byte (rotated?), so new output cannot be placed exactly',
      );
    }
  }
}
