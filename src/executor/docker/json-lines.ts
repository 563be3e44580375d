/**
 * Splits a byte stream of newline-delimited JSON (Docker's /events and streaming /stats) into objects.
 * Docker's chunks do not follow message boundaries: one object may arrive in several chunks, several
 * in one, and a multi-byte UTF-8 character may be cut in two; so bytes are kept until a newline and
 * only complete lines are decoded. A line that is not JSON is reported, not thrown, and skipped.
 */
export class JsonLines {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly onObject: (value: unknown) => void,
    private readonly onBadLine: (line: string, err: Error) => void = () => undefined,
    /** A line longer than this is garbage (Docker's are < 4 KiB): dropped rather than kept growing. */
    private readonly maxLineBytes = 1 << 20,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.pendingBytes ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      this.emit(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) {
        this.onBadLine(`<${this.pendingBytes} bytes without a newline>`, new Error('line too long'));
        this.pending = [];
        this.pendingBytes = 0;
        return;
      }
      this.pending.push(Buffer.from(rest)); // copy: the caller may reuse its chunk
    }
  }

  /** Bytes held of an unfinished line (a stream that ends with some is cut mid-object). */
  get buffered(): number {
    return this.pendingBytes;
  }

  private emit(line: Buffer): void {
    const text = line.toString('utf8').trim();
    if (!text) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.onBadLine(text, err as Error);
      return;
    }
    this.onObject(value);
  }
}
