import type { OutputSink, StreamName } from '../../common/streams';

const HEADER = 8;
const STREAMS: Record<number, StreamName | undefined> = { 1: 'stdout', 2: 'stderr' };

/**
 * Splits Docker's multiplexed attach stream (8-byte header: stream type, 3 zero bytes, big-endian
 * payload size) into stdout and stderr, and writes them to a sink.
 *
 * Written here rather than using modem.demuxStream because that one writes every frame separately
 * and ignores the sink: this one joins consecutive payload bytes of the same stream that arrived in one
 * socket read into one sink write (fewer chunks downstream, no added latency: nothing is held back
 * waiting for more), and it passes partial frames on at once.
 */
export class FrameDemuxer {
  private header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private remaining = 0;
  private current: StreamName | undefined;
  private type = 0;
  /** Text of Docker's "systemerr" frames (type 3): an error Docker put into the stream. */
  systemError?: string;

  constructor(private readonly sink: OutputSink) {}

  push(buf: Buffer): void {
    let pos = 0;
    let runStream: StreamName | undefined;
    let runParts: Buffer[] = [];
    let runBytes = 0;
    const flush = () => {
      if (runStream && runParts.length) {
        if (runParts.length === 1) this.sink.write(runStream, runParts[0]);
        // Views into the socket's buffer: a sink that takes pieces gets them without a copy.
        else if (this.sink.writeParts) this.sink.writeParts(runStream, runParts, runBytes);
        else this.sink.write(runStream, Buffer.concat(runParts, runBytes));
      }
      runBytes = 0;
      runParts = [];
      runStream = undefined;
    };
    while (pos < buf.length) {
      if (this.remaining === 0) {
        const take = Math.min(HEADER - this.headerFill, buf.length - pos);
        buf.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < HEADER) break;
        this.headerFill = 0;
        this.type = this.header[0];
        this.current = STREAMS[this.type];
        this.remaining = this.header.readUInt32BE(4);
        continue;
      }
      const take = Math.min(this.remaining, buf.length - pos);
      const payload = buf.subarray(pos, pos + take);
      pos += take;
      this.remaining -= take;
      if (!this.current) {
        if (this.type === 3) this.systemError = (this.systemError ?? '') + payload.toString('utf8');
        continue; // stdin echo (type 0) or Docker's own error (3): not output
      }
      if (runStream !== this.current) flush();
      runStream = this.current;
      runParts.push(payload);
      runBytes += take;
    }
    flush();
  }

  /** True when the stream ended between frames (a cut inside a frame means lost bytes). */
  get atFrameBoundary(): boolean {
    return this.remaining === 0 && this.headerFill === 0;
  }
}

/** A TTY process has one raw stream: everything is stdout. */
export class RawPassThrough {
  constructor(private readonly sink: OutputSink) {}
  push(buf: Buffer): void {
    if (buf.length) this.sink.write('stdout', buf);
  }
  get atFrameBoundary(): boolean {
    return true;
  }
  readonly systemError = undefined;
}
