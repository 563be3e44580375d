import { parseRecord, SessionExitRecord, SessionMetaRecord, SessionProcessRecord } from './session-records';
import type { StreamName } from '../../common/streams';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  read,
  renameSync,
  writeFileSync,
  writeSync,
  readFileSync,
  existsSync,
  rmSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ExecError } from '../../common/errors';
import { dataDirError } from './data-dir-errors';
import { decodeRecord, encodeRecord, nextAvailable, RECORD_BYTES, verifyIndex, type IndexReport } from './session-files-verify';

/**
 * A session's files in EXEC_DATA_DIR/sessions/<id>/:
 *   stdout, stderr  the complete raw bytes of each stream (what Container.Stdout()/Stderr() return);
 *   index           one 32-byte record per chunk, in sequence order (chunk n at byte (n-1)*32):
 *                     u8 stream (1 stdout, 2 stderr) | 3 bytes zero | u32 length | u64 offset in its
 *                     stream file | i64 timestamp (Unix ns) | u32 crc32 of the data | u32 crc32 of
 *                     bytes 0..27 of this record  (all little-endian)
 *   meta.json       what the session is (written at start), with Start's timeouts when it set any;
 *   process.json    the container (and exec) it runs in, written once the process started;
 *   kill.json       why the service itself ended the process ({reason, at}), written when it decides to;
 *   exit.json       how it ended (written once, by rename, when it ends);
 *   resizes         a TTY session's terminal sizes, one JSON line each ({timestamp (Unix ns, as a
 *                   string), width, height, after_sequence}), appended as they are applied.
 * Sequence numbers are implicit in the index position, so they are the same for every reader and
 * after every restart; replay in order is: read the record, read its bytes from its stream file.
 * The three files are open while the session records and while a reader holds them (hold()); a
 * finished session nobody reads holds no file descriptor. `dir` is <EXEC_DATA_DIR>/sessions/<id>.
 */
export { RECORD_BYTES };

export interface ChunkRecord {
  sequence: number;
  stream: StreamName;
  timestampNs: bigint;
  data: Buffer;
  /** Wire encodings made once and shared by every client that is sent this chunk (see ClientCursor). */
  plainMessage?: Buffer;
  liveMessage?: Buffer;
}

/**
 * Where a chunk read back from disk is put: `data` of exactly `length` bytes, which may be the end of
 * the `plainMessage` that will carry it (so plain clients are sent it without another copy).
 */
export type ChunkBuffers = (stream: StreamName, length: number) => { data: Buffer; plainMessage?: Buffer };

/** One line of `resizes`: a terminal size applied, when, and after which chunk. */
export interface ResizeRecord {
  /** Unix ns, the clock of the chunks' timestamps. */
  timestamp: bigint;
  width: number;
  height: number;
  /** The last chunk recorded before it (0: none yet). */
  after_sequence: number;
}

/**
 * Closes an fd and never throws. Linux releases the fd whatever close(2) reports (an NFS data directory
 * can report EIO, ENOSPC or EDQUOT as it writes cached data back), so there is nothing to retry and the
 * number must not be kept: a throw here would end the service (from a timer's clean-up of sessions) or
 * leave a session's clients without its exit (at its end). What such a close lost is not retried; the
 * chunks' checks find it when the files are next read from disk (after a restart, the background check).
 */
function closeReleasing(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* released all the same */
  }
}

/** A reader of a session whose files were closed for good (the session was removed meanwhile). */
function closedError(): ExecError {
  return new ExecError('not_found', 'session files are closed: the session was removed', { reason: 'SESSION_NOT_FOUND' });
}

function readAt(fd: number, length: number, position: number, buf: Buffer = Buffer.allocUnsafe(length)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    read(fd, buf, 0, length, position, (err, n) => {
      if (err) reject(err);
      else if (n !== length) reject(new ExecError('data_loss', `short read: ${n} of ${length} bytes at ${position}`));
      else resolve(buf);
    });
  });
}

type Handles = Record<StreamName | 'index', number>;

export class SessionFiles {
  /** Open handles; undefined while closed (finished, nobody reading). */
  private fds?: Handles;
  private recording = true;
  private holds = 0;
  private inflight = 0;
  private readonly offsets: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly record = Buffer.alloc(RECORD_BYTES);
  private count = 0;
  private closed = false;
  /** Sealed by shutdown: nothing more is recorded, so a running process is re-adopted at next start. */
  private sealed = false;
  /** Sequences that exist in the index but whose data is unusable (sorted). */
  private missingList: number[] = [];

  private constructor(
    readonly dir: string,
    flags: 'w+' | 'r+' = 'w+',
  ) {
    this.fds = this.openAll(flags);
  }

  /** The data directory (EXEC_DATA_DIR) this session's folder is in, for messages. */
  get dataDir(): string {
    return dirname(dirname(this.dir));
  }

  /** Opens the three files, or none: a failure closes those already opened. */
  private openAll(flags: 'w+' | 'r+' | 'r'): Handles {
    const opened: number[] = [];
    try {
      for (const f of ['stdout', 'stderr', 'index']) opened.push(openSync(join(this.dir, f), flags));
    } catch (err) {
      for (const fd of opened) closeReleasing(fd);
      throw dataDirError(err, this.dataDir, `the files of session folder ${this.dir}`);
    }
    return { stdout: opened[0], stderr: opened[1], index: opened[2] };
  }

  /** The open handles, opening them (read-only) for a reader of a finished session. */
  private handles(): Handles {
    if (this.closed) throw closedError();
    return (this.fds ??= this.openAll('r'));
  }

  /** Runs one read with the files open; closes them afterwards when nothing else needs them. */
  private async reading<T>(read: (fds: Handles) => Promise<T>): Promise<T> {
    const fds = this.handles();
    this.inflight++;
    try {
      return await read(fds);
    } finally {
      this.inflight--;
      this.closeIfIdle();
    }
  }

  private closeIfIdle(): void {
    if (!this.fds || this.recording || this.holds || this.inflight) return;
    const fds = this.fds;
    this.fds = undefined;
    for (const fd of Object.values(fds)) closeReleasing(fd);
  }

  /** Keeps the files open for a reader (an attached client) until the returned function is called. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.closeIfIdle();
    };
  }

  /** Nothing more is appended (the session ended): the files close once no reader holds them. */
  endRecording(): void {
    this.recording = false;
    this.closeIfIdle();
  }

  /** Open file descriptors this session holds now (0 or 3). */
  get openDescriptors(): number {
    return this.fds ? 3 : 0;
  }

  /**
   * Opens an existing session folder (after a restart) and checks its index against its files. Bytes
   * past the last good record (a torn record, data written just before a crash but never indexed) are
   * cut off, so appends continue exactly after what the index accounts for.
   */
  static open(dir: string): { files: SessionFiles; report: IndexReport } {
    for (const f of ['stdout', 'stderr', 'index']) {
      if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), ''); // created but never written
    }
    const files = new SessionFiles(dir, 'r+');
    try {
      const fds = files.fds!;
      const sizes = { stdout: fstatSync(fds.stdout).size, stderr: fstatSync(fds.stderr).size };
      const report = verifyIndex(readFileSync(join(dir, 'index')), sizes);
      files.count = report.count;
      files.missingList = [...report.missing];
      for (const stream of ['stdout', 'stderr'] as const) {
        files.offsets[stream] = report.recorded[stream];
        if (sizes[stream] > report.recorded[stream]) {
          report.unindexedBytes += sizes[stream] - report.recorded[stream];
          report.problems.push(`${stream}: ${sizes[stream] - report.recorded[stream]} bytes past the last indexed chunk, cut off`);
          ftruncateSync(fds[stream], report.recorded[stream]);
        }
      }
      if (report.tornBytes) ftruncateSync(fds.index, report.count * RECORD_BYTES);
      return { files, report };
    } catch (err) {
      files.close();
      throw err;
    }
  }

  /** meta.json as written at start; throws when it is unreadable or its fields are not a SessionMetaRecord's. */
  readMeta(): SessionMetaRecord {
    return parseRecord(SessionMetaRecord, readFileSync(join(this.dir, 'meta.json'), 'utf8'));
  }

  writeProcess(p: SessionProcessRecord): void {
    atomicWrite(join(this.dir, 'process.json'), JSON.stringify(p));
  }

  readProcess(): SessionProcessRecord | undefined {
    const file = join(this.dir, 'process.json');
    return existsSync(file) ? parseRecord(SessionProcessRecord, readFileSync(file, 'utf8')) : undefined;
  }

  /** Records why the service is ending the process (timeout, ContainerSignal), before it signals; by rename. */
  writeKillReason(reason: string): void {
    atomicWrite(join(this.dir, 'kill.json'), JSON.stringify({ reason, at: Date.now() }));
  }

  /** The reason writeKillReason() recorded, or undefined when there is none. */
  readKillReason(): string | undefined {
    const file = join(this.dir, 'kill.json');
    if (!existsSync(file)) return undefined;
    const { reason } = JSON.parse(readFileSync(file, 'utf8')) as { reason?: unknown };
    return typeof reason === 'string' ? reason : undefined;
  }

  /** Appends one terminal size to `resizes` (rare: once per applied resize). Throws on I/O failure. */
  appendResize(r: ResizeRecord): void {
    const line = JSON.stringify({ timestamp: String(r.timestamp), width: r.width, height: r.height, after_sequence: r.after_sequence });
    appendFileSync(join(this.dir, 'resizes'), `${line}\n`);
  }

  /** The sizes `resizes` holds, in order; none for a session recorded without it. A torn last line is left out. */
  readResizes(): ResizeRecord[] {
    const file = join(this.dir, 'resizes');
    if (!existsSync(file)) return [];
    const out: ResizeRecord[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      try {
        const r = JSON.parse(line) as { timestamp: string; width: number; height: number; after_sequence: number };
        out.push({ timestamp: BigInt(r.timestamp), width: r.width, height: r.height, after_sequence: r.after_sequence });
      } catch {
        /* the empty end, or a torn last line */
      }
    }
    return out;
  }

  /** Marks a chunk unusable (its data failed its checksum): readers skip it and report the gap. */
  markMissing(sequence: number): void {
    if (this.missingList.includes(sequence)) return;
    this.missingList.push(sequence);
    this.missingList.sort((a, b) => a - b);
  }

  /**
   * A finished session whose last output was never fully indexed (torn record, unindexed bytes) lost
   * it for good: one missing chunk stands for it at the end, so readers are told instead of seeing a
   * clean end. (In a running session those bytes are read back from Docker instead.)
   */
  addLostTail(): void {
    this.count++;
    this.markMissing(this.count);
  }

  get missing(): readonly number[] {
    return this.missingList;
  }

  /** The first chunk ≥ `from` that can be read, and how many unusable ones lie before it. */
  nextAvailable(from: number): { sequence: number; gap: number } {
    return this.missingList.length ? nextAvailable(this.missingList, from, this.count) : { sequence: from, gap: 0 };
  }

  /** Bytes the session occupies on disk (for the retention size budget). */
  get diskBytes(): number {
    return this.offsets.stdout + this.offsets.stderr + this.count * RECORD_BYTES;
  }

  /** Reads `length` bytes of a stream file at `position` (recovery compares them with Docker's log). */
  readStream(stream: StreamName, position: number, length: number): Promise<Buffer> {
    return length ? this.reading((fds) => readAt(fds[stream], length, position)) : Promise.resolve(Buffer.alloc(0));
  }

  /**
   * Flushes to disk and stops recording. Used on shutdown: output that arrives after it is not
   * recorded (Docker keeps it; recovery reads it back) and no exit record is written, because the
   * process is not over: it is left running to be re-adopted.
   */
  seal(): void {
    if (this.closed || this.sealed) return;
    this.sealed = true;
    for (const fd of Object.values(this.fds ?? {})) fsyncSync(fd);
  }

  /** Creates the folder and its files; a failure removes what was made and says why (full disk, no fds). */
  static create(dir: string, meta: object): SessionFiles {
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
      return new SessionFiles(dir);
    } catch (err) {
      removeFolder(dir);
      throw dataDirError(err, dirname(dirname(dir)), `a new session's files`);
    }
  }

  get chunkCount(): number {
    return this.count;
  }

  get bytes(): Record<StreamName, number> {
    return { ...this.offsets };
  }

  /** Output bytes recorded, both streams. */
  get totalBytes(): number {
    return this.offsets.stdout + this.offsets.stderr;
  }

  /** Appends one chunk (data, then its index record); returns its sequence number. Throws on I/O failure. */
  append(stream: StreamName, data: Buffer, timestampNs: bigint): number {
    if (this.sealed) throw new ExecError('unavailable', 'exec-stream is shutting down: output is no longer recorded here', { reason: 'SHUTTING_DOWN' });
    // Closed fd numbers may already belong to another session's files: never write through them.
    if (this.closed || !this.recording || !this.fds) throw new ExecError('internal', `session files in ${this.dir} are closed`, { reason: 'INTERNAL' });
    const offset = this.offsets[stream];
    try {
      // Positional writes: files opened after a restart continue exactly at the indexed end.
      writeAll(this.fds[stream], data, offset);
      writeAll(this.fds.index, encodeRecord(this.record, stream, data, offset, timestampNs), this.count * RECORD_BYTES);
    } catch (err) {
      // Not indexed, so not recorded: a partial write past the indexed end is cut off at the next open.
      throw dataDirError(err, this.dataDir, 'output of this session');
    }
    this.offsets[stream] = offset + data.length;
    return ++this.count;
  }

  /** Reads chunk `sequence` back from disk (into `buffers`' data when given), checking both checksums. */
  async readChunk(sequence: number, buffers?: ChunkBuffers): Promise<ChunkRecord> {
    if (this.closed) throw closedError();
    if (sequence < 1 || sequence > this.count) throw new ExecError('internal', `chunk ${sequence} is not in the index`, { reason: 'INTERNAL' });
    if (this.nextAvailable(sequence).gap) throw new ExecError('data_loss', `chunk ${sequence} is missing (damaged or lost) in ${this.dir}`);
    return this.reading((fds) => this.readChunkFrom(fds, sequence, buffers));
  }

  private async readChunkFrom(fds: Handles, sequence: number, buffers?: ChunkBuffers): Promise<ChunkRecord> {
    const entry = decodeRecord(await readAt(fds.index, RECORD_BYTES, (sequence - 1) * RECORD_BYTES), 0);
    if (typeof entry === 'string') throw new ExecError('data_loss', `index record ${sequence} is corrupt (${entry}) in ${this.dir}`);
    const { stream, length, offset, timestampNs, dataCrc } = entry;
    const into = length ? buffers?.(stream, length) : undefined;
    const data = length ? await readAt(fds[stream], length, offset, into?.data) : Buffer.alloc(0);
    if (crc32(data) !== dataCrc) {
      throw new ExecError('data_loss', `chunk ${sequence} of ${stream} is corrupt (checksum mismatch) in ${this.dir}`);
    }
    return { sequence, stream, timestampNs, data, plainMessage: into?.plainMessage };
  }

  writeExit(exit: SessionExitRecord): void {
    if (this.sealed) return; // shut down mid-run: the outcome is not known yet (see seal())
    atomicWrite(join(this.dir, 'exit.json'), JSON.stringify(exit));
  }

  readExit(): SessionExitRecord | undefined {
    const file = join(this.dir, 'exit.json');
    return existsSync(file) ? parseRecord(SessionExitRecord, readFileSync(file, 'utf8')) : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // A read in flight keeps its fd numbers until it settles: they are closed then (closeIfIdle).
    this.recording = false;
    this.holds = 0;
    this.closeIfIdle();
  }

  /** Closes and deletes the session's folder; never throws (false: the folder could not be removed). */
  destroy(): boolean {
    this.close();
    return removeFolder(this.dir);
  }

  /**
   * destroy() without blocking the event loop: the folder is moved into `trash` at once (one rename, so
   * no restart can load it again) and deleted from there by the thread pool (deleting a session of
   * 1 GiB synchronously held every stream of the service for over a second). Resolves false when it
   * could not be removed; never rejects.
   */
  destroyInBackground(trash: string): Promise<boolean> {
    this.close();
    let doomed = join(trash, `${basename(this.dir)}.${Date.now()}`);
    try {
      mkdirSync(trash, { recursive: true });
      renameSync(this.dir, doomed);
    } catch {
      doomed = this.dir; // deleted where it is
    }
    return rm(doomed, { recursive: true, force: true }).then(
      () => true,
      () => false,
    );
  }
}

/** rm -rf that never throws (it fails when out of descriptors): a failure must not hide the first error. */
function removeFolder(dir: string): boolean {
  try {
    rmSync(dir, { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

function atomicWrite(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
