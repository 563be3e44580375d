import { closeSync, mkdirSync, openSync, read, renameSync, writeFileSync, writeSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ExecError } from '../common/errors';
import type { StreamName } from '../executor/container-runtime';

/**
 * A session's files in EXEC_DATA_DIR/sessions/<id>/:
 *   stdout, stderr  the complete raw bytes of each stream (what Container.Stdout()/Stderr() return);
 *   index           one 32-byte record per chunk, in sequence order (chunk n at byte (n-1)*32):
 *                     u8 stream (1 stdout, 2 stderr) | 3 bytes zero | u32 length | u64 offset in its
 *                     stream file | i64 timestamp (Unix ns) | u32 crc32 of the data | u32 crc32 of
 *                     bytes 0..27 of this record  (all little-endian)
 *   meta.json       what the session is (written at start);
 *   exit.json       how it ended (written once, by rename, when it ends).
 * Sequence numbers are implicit in the index position, so they are the same for every reader and
 * after every restart; replay in order is: read the record, read its bytes from its stream file.
 */
export const RECORD_BYTES = 32;
const STREAM_CODE: Record<StreamName, number> = { stdout: 1, stderr: 2 };
const CODE_STREAM: Record<number, StreamName | undefined> = { 1: 'stdout', 2: 'stderr' };

export interface ChunkRecord {
  sequence: number;
  stream: StreamName;
  timestampNs: bigint;
  data: Buffer;
}

export interface SessionExitRecord {
  exitCode?: number;
  error?: { kind: string; message: string };
  finishedAt: number;
}

function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, length, position, (err, n) => {
      if (err) reject(err);
      else if (n !== length) reject(new ExecError('data_loss', `short read: ${n} of ${length} bytes at ${position}`));
      else resolve(buf);
    });
  });
}

export class SessionFiles {
  private readonly fds: Record<StreamName | 'index', number>;
  private readonly offsets: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly record = Buffer.alloc(RECORD_BYTES);
  private count = 0;
  private closed = false;

  private constructor(readonly dir: string) {
    this.fds = {
      stdout: openSync(join(dir, 'stdout'), 'w+'),
      stderr: openSync(join(dir, 'stderr'), 'w+'),
      index: openSync(join(dir, 'index'), 'w+'),
    };
  }

  static create(dir: string, meta: object): SessionFiles {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
    return new SessionFiles(dir);
  }

  get chunkCount(): number {
    return this.count;
  }

  get bytes(): Record<StreamName, number> {
    return { ...this.offsets };
  }

  /** Appends one chunk (data, then its index record); returns its sequence number. Throws on I/O failure. */
  append(stream: StreamName, data: Buffer, timestampNs: bigint): number {
    const offset = this.offsets[stream];
    writeAll(this.fds[stream], data);
    this.offsets[stream] = offset + data.length;
    const r = this.record;
    r.fill(0, 0, 4);
    r[0] = STREAM_CODE[stream];
    r.writeUInt32LE(data.length, 4);
    r.writeBigUInt64LE(BigInt(offset), 8);
    r.writeBigInt64LE(timestampNs, 16);
    r.writeUInt32LE(crc32(data), 24);
    r.writeUInt32LE(crc32(r.subarray(0, 28)), 28);
    writeAll(this.fds.index, r);
    return ++this.count;
  }

  /** Reads chunk `sequence` back from disk, checking both checksums. */
  async readChunk(sequence: number): Promise<ChunkRecord> {
    if (this.closed) throw new ExecError('not_found', 'session files are closed');
    if (sequence < 1 || sequence > this.count) throw new ExecError('internal', `chunk ${sequence} is not in the index`);
    const rec = await readAt(this.fds.index, RECORD_BYTES, (sequence - 1) * RECORD_BYTES);
    if (rec.readUInt32LE(28) !== crc32(rec.subarray(0, 28))) {
      throw new ExecError('data_loss', `index record ${sequence} is corrupt (checksum mismatch) in ${this.dir}`);
    }
    const stream = CODE_STREAM[rec[0]];
    if (!stream) throw new ExecError('data_loss', `index record ${sequence} names unknown stream ${rec[0]}`);
    const length = rec.readUInt32LE(4);
    const data = length ? await readAt(this.fds[stream], length, Number(rec.readBigUInt64LE(8))) : Buffer.alloc(0);
    if (crc32(data) !== rec.readUInt32LE(24)) {
      throw new ExecError('data_loss', `chunk ${sequence} of ${stream} is corrupt (checksum mismatch) in ${this.dir}`);
    }
    return { sequence, stream, timestampNs: rec.readBigInt64LE(16), data };
  }

  writeExit(exit: SessionExitRecord): void {
    const tmp = join(this.dir, 'exit.json.tmp');
    writeFileSync(tmp, JSON.stringify(exit));
    renameSync(tmp, join(this.dir, 'exit.json'));
  }

  readExit(): SessionExitRecord | undefined {
    const file = join(this.dir, 'exit.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SessionExitRecord) : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of Object.values(this.fds)) closeSync(fd);
  }

  /** Closes and deletes the session's folder. */
  destroy(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
}
