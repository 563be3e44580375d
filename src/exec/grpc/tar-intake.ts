import { Transform, type Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { quoteEntryName, TarFraming, TarFramingError, type TarEntryHeader } from '@exec-stream/client/wire';
import { ExecError } from '../../common/errors';

/** Two zero blocks: the end of a tar archive. */
const END_OF_ARCHIVE = Buffer.alloc(1024);
/** Enough first bytes to tell every compression below. */
const SNIFF_BYTES = 6;
/** Compressions Docker would unpack; only gzip is unpacked here (Node has it), so only gzip is taken. */
const COMPRESSIONS: { name: string; magic: number[] }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
];

export interface TarIntakeOptions {
  /** The most unpacked tar bytes passed on: an entry that would end past them is refused (RESOURCE_EXHAUSTED). */
  maxBytes: number;
  /** Tar bytes held for Docker before write() says to wait. */
  bufferBytes: number;
}

/**
 * A CopyTo's bytes on their way to Docker (`tar`). A gzip archive is unpacked here, so the limits count
 * what is unpacked (bzip2, xz and zstd are refused: they could not be counted); the tar framing is
 * followed and an entry's header reaches Docker only once it is accepted. Refused are device entries
 * (a container cannot make device nodes: MKNOD is dropped), an entry ending past `maxBytes`, and bytes
 * that are not tar: the stream then ends cleanly before that entry, with the end-of-archive blocks,
 * so Docker unpacks the whole entries before it and nothing of it. A failure inside an entry (the
 * client left, stalled, or its tar ends there) ends the stream there instead, and `partial` names
 * the entry Docker was left writing.
 */
export class TarIntake {
  /** Bytes the client sent (compressed or not). */
  received = 0;
  /** Why the copy failed, once it has (the first reason). */
  failure?: ExecError;
  /** The entry Docker was given only part of, when the stream ended inside it. */
  partial?: TarEntryHeader;
  private readonly gate: Transform;
  private readonly framing: TarFraming;
  private input?: Writable;
  private gunzip?: ReturnType<typeof createGunzip>;
  private head: Buffer[] = [];
  private headBytes = 0;
  /** Bytes passed on to Docker, and those the framing has taken but not passed on yet. */
  private forwarded = 0;
  private pending: Buffer[] = [];
  private open = true;
  private readonly drainListeners: (() => void)[] = [];
  private readonly failedListeners: (() => void)[] = [];

  constructor(options: TarIntakeOptions) {
    this.framing = new TarFraming((entry) => this.check(entry, options.maxBytes));
    this.gate = new Transform({
      readableHighWaterMark: options.bufferBytes,
      transform: (chunk: Buffer, _enc, done) => {
        this.take(chunk);
        done();
      },
      flush: (done) => {
        this.inputEnded();
        done();
      },
    });
  }

  /** The plain tar Docker unpacks. */
  get tar(): Readable {
    return this.gate;
  }

  /** Unpacked tar bytes so far. */
  get unpacked(): number {
    return this.framing.offset;
  }

  /** Takes the client's next bytes; false: wait for onDrain before the next write. Ignored once failed. */
  write(chunk: Buffer): boolean {
    this.received += chunk.length;
    if (this.failure) return true;
    if (!this.input) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes < SNIFF_BYTES) return true;
      return this.begin(Buffer.concat(this.head));
    }
    return this.input.write(chunk);
  }

  /** Calls `fn` each time a write that returned false may be followed by more. */
  onDrain(fn: () => void): void {
    this.drainListeners.push(fn);
  }

  /** Calls `fn` once, when the copy fails (Docker must then answer soon: its stream has ended). */
  onFailed(fn: () => void): void {
    if (this.failure) fn();
    else this.failedListeners.push(fn);
  }

  /** The client has sent everything. */
  end(): void {
    if (this.failure) return;
    if (!this.input) this.begin(Buffer.concat(this.head));
    this.input?.end();
  }

  /**
   * Ends the copy with `err`: Docker's stream ends at the last whole entry when no entry is part-way,
   * else inside that entry (`partial`). Only the first failure counts.
   */
  fail(err: ExecError): void {
    if (this.failure) return;
    const entry = this.framing.current;
    if (entry && this.framing.settled > entry.start) this.stop(err, entry);
    else this.stop(err, undefined, this.framing.atBoundary ? this.framing.offset : this.framing.boundary);
  }

  /** Picks the way in from the first bytes: gzip is unpacked on the way, other compressions refused. */
  private begin(first: Buffer): boolean {
    this.head = [];
    const compression = COMPRESSIONS.find((c) => c.magic.every((b, i) => first[i] === b));
    if (compression && compression.name !== 'gzip') {
      this.input = this.gate;
      this.fail(new ExecError('invalid', `the archive is compressed with ${compression.name}: CopyTo takes a tar, plain or gzip-compressed`));
      return true;
    }
    if (compression) {
      const gunzip = createGunzip();
      gunzip.on('drain', () => this.drained());
      gunzip.on('error', (err) => this.fail(new ExecError('invalid', `the gzip stream cannot be unpacked: ${err.message}`)));
      gunzip.pipe(this.gate);
      this.gunzip = gunzip;
      this.input = gunzip;
    } else {
      this.gate.on('drain', () => this.drained());
      this.input = this.gate;
    }
    return first.length ? this.input.write(first) : true;
  }

  private drained(): void {
    for (const fn of this.drainListeners) fn();
  }

  /** An entry's header, before Docker sees any of it. */
  private check(entry: TarEntryHeader, maxBytes: number): void {
    if (entry.type === '3' || entry.type === '4') {
      throw new ExecError(
        'invalid',
        `entry ${quoteEntryName(entry.name)} is a ${entry.type === '3' ? 'char' : 'block'} device: containers cannot make device nodes (MKNOD is dropped), so CopyTo refuses them`,
      );
    }
    if (entry.end > maxBytes) {
      throw new ExecError(
        'exhausted',
        `entry ${quoteEntryName(entry.name)} (${entry.size} bytes) would end at byte ${entry.end} of the unpacked tar, past the ${maxBytes} bytes one CopyTo may unpack (EXEC_COPY_MAX_BYTES)`,
      );
    }
  }

  /** Unpacked tar bytes: followed, and passed on up to what the framing has accepted. */
  private take(chunk: Buffer): void {
    if (!this.open) return;
    this.pending.push(chunk);
    try {
      this.framing.push(chunk);
    } catch (err) {
      // A refused header (or bytes that are not one): nothing of that entry has been passed on.
      const refused: ExecError =
        err instanceof ExecError ? (err as ExecError) : new ExecError('invalid', err instanceof TarFramingError ? err.message : String(err));
      return this.stop(refused, undefined, this.framing.boundary);
    }
    this.passOn(this.framing.settled);
  }

  /** The input has ended: a whole archive, or whole entries without the end blocks, pass; else the tar is cut short. */
  private inputEnded(): void {
    if (!this.open) return;
    if (this.framing.complete || this.framing.atBoundary) return this.finish(this.framing.offset, !this.framing.complete);
    this.fail(new ExecError('invalid', `the tar ends too soon: ${this.framing.problemAtEnd()}`));
  }

  /**
   * The copy failed: Docker's stream ends inside `partial` (whose header and part of whose content it
   * has), or else cleanly at `cutAt`, an entry boundary, with the end-of-archive blocks.
   */
  private stop(err: ExecError, partial?: TarEntryHeader, cutAt = 0): void {
    if (this.failure) return;
    this.failure = err;
    this.gunzip?.destroy();
    if (this.open) {
      this.partial = partial;
      if (partial) this.finish(this.framing.settled, false);
      else this.finish(cutAt, true);
    }
    for (const fn of this.failedListeners.splice(0)) fn();
  }

  private finish(at: number, endBlocks: boolean): void {
    this.passOn(at);
    this.pending = [];
    this.open = false;
    if (endBlocks) this.gate.push(END_OF_ARCHIVE);
    this.gate.push(null);
  }

  /** Passes on the pending bytes (they start at `forwarded`) up to the stream offset `upTo`. */
  private passOn(upTo: number): void {
    let n = upTo - this.forwarded;
    while (n > 0 && this.pending.length) {
      const b = this.pending[0];
      const piece = b.length <= n ? b : b.subarray(0, n);
      if (piece === b) this.pending.shift();
      else this.pending[0] = b.subarray(n);
      this.gate.push(piece);
      this.forwarded += piece.length;
      n -= piece.length;
    }
  }
}
