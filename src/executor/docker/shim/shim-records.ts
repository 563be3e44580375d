import type { StreamName } from '../../../common/streams';
import { ExecError } from '../../../common/errors';

/** Record types of the in-container output record (exec-stream-shim.c). */
const REC_STDOUT = 1;
const REC_STDERR = 2;
const REC_END = 3;
const REC_SEGMENT = 4;
const HEADER = 8;

/** What a reader of the record is told, in the record's order. */
export interface ShimRecordHandler {
  output(stream: StreamName, data: Buffer): void;
  /** A segment begins: `before` bytes of each stream were written before it (older segments may be gone). */
  segment(before: Record<StreamName, number>): void;
  /** The process ended with this code; nothing follows. */
  end(exitCode: number): void;
}

/**
 * Parses the records of exec-stream-shim's output record as they arrive, in any pieces: `u8 type | 3 zero
 * bytes | u32 LE length | payload`. Output payloads are passed on as they come (a record split over
 * two pushes is two output calls); a torn last record is what a killed container leaves and is dropped
 * by whoever stops pushing (`partial` says one is pending).
 */
export class ShimRecordParser {
  private header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private remaining = 0;
  private type = 0;
  private control: Buffer[] = [];
  /** Set once the end record went by; later bytes are ignored. */
  ended = false;

  constructor(private readonly handler: ShimRecordHandler) {}

  /** True while a record has begun and not ended (a torn record if no more bytes come). */
  get partial(): boolean {
    return this.headerFill > 0 || this.remaining > 0;
  }

  /** Starts a new segment file: its first byte begins a record. */
  reset(): void {
    this.headerFill = 0;
    this.remaining = 0;
    this.control = [];
  }

  push(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length && !this.ended) {
      if (this.remaining === 0 && this.headerFill < HEADER) {
        const take = Math.min(HEADER - this.headerFill, buf.length - pos);
        buf.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < HEADER) break;
        this.type = this.header[0];
        this.remaining = this.header.readUInt32LE(4);
        if (this.type < REC_STDOUT || this.type > REC_SEGMENT || this.header[1] | this.header[2] | this.header[3]) {
          throw new ExecError('data_loss', `the output record is damaged: unknown record type ${this.type}`);
        }
        if (this.remaining === 0) this.complete();
        continue;
      }
      const take = Math.min(this.remaining, buf.length - pos);
      const payload = buf.subarray(pos, pos + take);
      pos += take;
      this.remaining -= take;
      if (this.type === REC_STDOUT || this.type === REC_STDERR) this.handler.output(this.type === REC_STDOUT ? 'stdout' : 'stderr', payload);
      else this.control.push(Buffer.from(payload));
      if (this.remaining === 0) this.complete();
    }
  }

  private complete(): void {
    this.headerFill = 0;
    const body = Buffer.concat(this.control);
    this.control = [];
    if (this.type === REC_SEGMENT) {
      if (body.length !== 16) throw new ExecError('data_loss', `the output record is damaged: a segment header of ${body.length} bytes`);
      this.handler.segment({ stdout: Number(body.readBigUInt64LE(0)), stderr: Number(body.readBigUInt64LE(8)) });
    } else if (this.type === REC_END) {
      this.ended = true;
      this.handler.end(body.length >= 4 ? body.readInt32LE(0) : -1);
    }
  }
}
