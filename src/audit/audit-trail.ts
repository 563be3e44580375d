import { AUDIT_ANCHORS_FILE, AUDIT_GENESIS_HASH, AUDIT_SEGMENT_NAME, auditSegmentName, openAuditLine, sealAuditLine } from '@exec-stream/client';
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ExecConfig } from '../common/config/exec-config';
import { DISK_FULL_ERRNO, errnoOf, ExecError } from '../common/errors';
import { HEALTH_PROBLEM, type HealthState } from '../common/health-state';
import { stdoutDestination, type Logger } from '../common/logger';
import type { AuditEventInput, StoredAuditEvent } from './audit-event';

/** Events kept in memory for followers (older ones are read back from the segments). */
const RING_EVENTS = 1024;
/** How often a trail that cannot be written tries again (after removing what has expired). */
const RETRY_MS = 1000;
/** How often written events are fdatasynced with EXEC_AUDIT_FSYNC=interval. */
const SYNC_MS = 1000;
const ZEROS = Buffer.alloc(64 * 1024);

/** One segment file of the trail. */
export interface AuditSegment {
  name: string;
  firstSeq: number;
  /** Time of its first and newest event (ms), when it has events. */
  firstMs?: number;
  newestMs?: number;
  /** Bytes it takes on disk (its zero-filled room included). */
  bytes: number;
}

/** The audit trail's folder: EXEC_DATA_DIR/audit (a sibling of sessions/, never touched by session retention). */
export function auditDir(dataDir: string): string {
  return join(dataDir, 'audit');
}

/**
 * The audit trail of this replica: an append-only hash chain of events in segment files under
 * EXEC_DATA_DIR/audit (docs/AUDIT.md). Each event is written synchronously (page cache, before the
 * call it records is answered: a kill -9 loses none; a machine crash can lose the last second unless
 * EXEC_AUDIT_FSYNC=always). The current segment is zero-filled ahead of its end, so a disk that
 * session output fills still leaves the trail room; when that room cannot be renewed (full disk, or
 * EXEC_AUDIT_MAX_BYTES reached with nothing past EXEC_AUDIT_RETENTION_SECONDS), assertWritable()
 * throws RESOURCE_EXHAUSTED naming the trail and health reports it, while what remains of the room
 * takes the events nobody can refuse (session ends, refusals). Segments are removed only by their own
 * retention, each removal recorded in the anchors file beside the head at each rotation.
 */
export class AuditTrail {
  readonly enabled: boolean;
  readonly dir: string;
  private readonly log: Logger;
  private readonly retentionMs: number;
  private readonly reserve: number;
  private fd?: number;
  private anchorsFd?: number;
  private opened = false;
  private closed = false;
  private readonly segments: AuditSegment[] = [];
  /** Write position and size of the current segment. */
  private pos = 0;
  private size = 0;
  private head = { seq: 0, hash: AUDIT_GENESIS_HASH, ms: 0 };
  private anchorHead = { seq: 0, hash: AUDIT_GENESIS_HASH };
  private problem?: ExecError;
  private readonly ring: StoredAuditEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private timers: NodeJS.Timeout[] = [];
  private retryTimer?: NodeJS.Timeout;
  private dirty = false;
  private syncing = false;
  /** Descriptors of rotated segments, closed once an fdatasync in flight is done with them. */
  private retired: number[] = [];
  private stdout?: { write(s: string): unknown };
  /** Events that could not be written (for logs and tests). */
  lost = 0;

  constructor(
    private readonly config: ExecConfig,
    root: Logger,
    private readonly health: HealthState,
  ) {
    this.enabled = config.EXEC_AUDIT === 'on';
    this.dir = auditDir(config.EXEC_DATA_DIR);
    this.log = root.child({ component: 'audit' });
    this.retentionMs = config.EXEC_AUDIT_RETENTION_SECONDS * 1000;
    this.reserve = Math.min(256 * 1024, Math.max(4096, Math.floor(config.EXEC_AUDIT_SEGMENT_BYTES / 4)));
  }

  /** The last event's seq (0 before any). */
  get headSeq(): number {
    return this.head.seq;
  }

  /** The trail's segments, oldest first (the last one is written). */
  get segmentList(): readonly AuditSegment[] {
    return this.segments;
  }

  /** Bytes the segments take on disk. */
  get diskBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  /**
   * Opens the trail (idempotent): continues the newest segment where its last event ends (a segment
   * whose end is damaged is left as it is, for `audit verify` to name, and a new one begun), or begins
   * the first; records `service_start`. Throws when the folder cannot be made or read.
   */
  open(): void {
    if (!this.enabled || this.opened || this.closed) return;
    this.opened = true;
    mkdirSync(this.dir, { recursive: true });
    const anchors = this.readAnchors();
    this.anchorsFd = openSync(join(this.dir, AUDIT_ANCHORS_FILE), 'a');
    const names = readdirSync(this.dir)
      .filter((f) => AUDIT_SEGMENT_NAME.test(f))
      .sort();
    for (const name of names) {
      const file = join(this.dir, name);
      const st = statSync(file);
      this.segments.push({ name, firstSeq: Number(AUDIT_SEGMENT_NAME.exec(name)![1]), firstMs: firstEventMs(file), newestMs: st.mtimeMs, bytes: st.size });
    }
    const last = this.segments[this.segments.length - 1];
    if (!last) {
      this.startSegment();
    } else {
      const file = join(this.dir, last.name);
      const bytes = readFileSync(file);
      const nul = bytes.indexOf(0);
      const used = nul < 0 ? bytes.length : nul;
      const tail = used ? bytes.lastIndexOf(10, used - 1) : -1;
      const damaged = tail !== used - 1 || (nul >= 0 && bytes.subarray(nul).some((b) => b !== 0));
      const lastLine = tail > 0 ? bytes.subarray(bytes.lastIndexOf(10, tail - 1) + 1, tail).toString('utf8') : undefined;
      const opened = lastLine === undefined ? undefined : openAuditLine(lastLine);
      if (opened && typeof opened.event.seq === 'number') {
        this.head = { seq: opened.event.seq, hash: opened.hash, ms: Date.parse(String(opened.event.time)) || 0 };
      } else {
        const anchor = anchors.get(last.name);
        if (!anchor && used) throw new Error(`audit trail ${file}: its last event cannot be read, and no anchor names the segment`);
        this.head = { seq: (anchor?.firstSeq ?? last.firstSeq) - 1, hash: anchor?.headHash ?? AUDIT_GENESIS_HASH, ms: 0 };
      }
      if (damaged) {
        this.log.error(
          { segment: last.name, bytes: used - tail - 1 },
          'the audit trail ends with a damaged write: a new segment is begun after its last whole event',
        );
        this.startSegment();
      } else {
        this.fd = openSync(file, 'r+');
        this.pos = used;
        this.size = bytes.length;
      }
    }
    this.timers.push(setInterval(() => this.sweep(), Math.max(250, Math.min(60_000, this.retentionMs / 4))));
    if (this.config.EXEC_AUDIT_FSYNC !== 'always') this.timers.push(setInterval(() => this.syncInBackground(), SYNC_MS));
    for (const t of this.timers) t.unref();
    if (this.config.EXEC_AUDIT_STDOUT) this.stdout = stdoutDestination(); // the log's own: in order with its lines, never throwing
    this.restoreRoom();
    try {
      this.record({ action: 'service_start' });
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'service_start could not be recorded');
    }
  }

  /** Records `service_stop`, flushes to disk and closes; later events are not recorded. */
  close(): void {
    if (!this.opened || this.closed) return;
    // An open that threw (start-up then fails, saying why) left no segment to record the stop in.
    if (this.fd !== undefined) {
      try {
        this.record({ action: 'service_stop' });
      } catch {
        /* already logged by record's failure */
      }
    }
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearInterval(this.retryTimer);
    for (const fd of [this.fd, this.anchorsFd, ...this.retired]) {
      if (fd === undefined) continue;
      try {
        fdatasyncSync(fd);
        closeSync(fd);
      } catch {
        /* closing anyway */
      }
    }
    this.retired = [];
    this.fd = this.anchorsFd = undefined;
    for (const w of this.waiters) w();
  }

  /** Throws the trail's standing problem (RESOURCE_EXHAUSTED or UNAVAILABLE naming it): calls it must record are refused. */
  assertWritable(): void {
    if (this.problem) throw new ExecError(this.problem.kind, this.problem.message, this.problem.detail);
  }

  /**
   * Appends one event (synchronously: it is in the page cache when this returns) and tells followers.
   * Throws, naming the trail, when it cannot be written; undefined when the trail is off or closed.
   */
  record(input: AuditEventInput): StoredAuditEvent | undefined {
    if (!this.enabled || this.closed) return undefined;
    this.open();
    const now = Date.now();
    const seq = this.head.seq + 1;
    const body = {
      seq,
      time: new Date(now).toISOString(),
      replica: this.config.EXEC_REPLICA_ID,
      action: input.action,
      result: input.result ?? 'ok',
      reason: input.reason || undefined,
      caller: compact(input.caller),
      request_id: input.request_id || undefined,
      session_id: input.session_id || undefined,
      container_id: input.container_id || undefined,
      exec_id: input.exec_id || undefined,
      request: compact(input.request),
      outcome: input.outcome,
      prev_hash: this.head.hash,
    };
    const { line, hash } = sealAuditLine(JSON.stringify(body));
    const bytes = Buffer.from(`${line}\n`);
    try {
      this.makeRoom(bytes.length);
      writeAll(this.fd!, bytes, this.pos);
      if (this.config.EXEC_AUDIT_FSYNC === 'always') fdatasyncSync(this.fd!);
    } catch (err) {
      this.lost++;
      const problem = this.fail(err);
      this.log.error({ action: input.action, sessionId: input.session_id, err: problem.message }, 'audit event not recorded');
      throw problem;
    }
    this.pos += bytes.length;
    this.dirty = true;
    this.head = { seq, hash, ms: now };
    const current = this.segments[this.segments.length - 1];
    current.firstMs ??= now;
    current.newestMs = now;
    const stored = JSON.parse(line) as StoredAuditEvent;
    this.ring.push(stored);
    if (this.ring.length > RING_EVENTS) this.ring.shift();
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
    this.stdout?.write(`{"type":"audit",${line.slice(1)}\n`);
    return stored;
  }

  /** The held event `seq` from memory, when it is among the newest (else it is read from its segment). */
  recent(seq: number): StoredAuditEvent | undefined {
    const first = this.ring[0]?.seq;
    return first === undefined || seq < first ? undefined : this.ring[seq - first];
  }

  /** Resolves once an event after `seq` is written, or on abort / close. */
  waitForEvent(seq: number, signal: AbortSignal): Promise<void> {
    if (this.head.seq > seq || signal.aborted || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** The path of a segment. */
  segmentPath(name: string): string {
    return join(this.dir, name);
  }

  /**
   * Removes the oldest segments whose newest event is past EXEC_AUDIT_RETENTION_SECONDS (each removal
   * recorded in the anchors file first), never the one being written; rotates that one once its first
   * event is past retention, so that it can go in turn.
   */
  sweep(now = Date.now()): number {
    if (!this.opened || this.closed) return 0;
    const removed = this.removeExpired(now);
    const current = this.segments[this.segments.length - 1];
    if (!this.problem && current?.firstMs !== undefined && now - current.firstMs >= this.retentionMs && this.pos > 0) {
      try {
        this.rotate();
      } catch (err) {
        this.fail(err);
      }
    }
    return removed;
  }

  /** Removes the oldest segments (not the current one) whose newest event is past retention. */
  private removeExpired(now: number): number {
    let removed = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0];
      if (now - (oldest.newestMs ?? 0) < this.retentionMs) break;
      try {
        this.appendAnchor({
          kind: 'removed',
          segment: oldest.name,
          last_seq: this.segments[1].firstSeq - 1,
          newest_time: new Date(oldest.newestMs ?? 0).toISOString(),
          retention_seconds: this.config.EXEC_AUDIT_RETENTION_SECONDS,
        });
        rmSync(this.segmentPath(oldest.name), { force: true });
      } catch (err) {
        this.log.warn({ segment: oldest.name, err: (err as Error).message }, 'an expired audit segment could not be removed');
        break;
      }
      this.segments.shift();
      removed++;
      this.log.info({ segment: oldest.name, lastSeq: this.segments[0].firstSeq - 1 }, 'audit segment past its retention removed');
    }
    return removed;
  }

  /** The room for `length` more bytes in the current segment; throws the problem when there is none. */
  private makeRoom(length: number): void {
    if (!this.problem && (this.pos >= this.config.EXEC_AUDIT_SEGMENT_BYTES || this.size - this.pos - length < this.reserve / 2)) {
      try {
        if (this.pos >= this.config.EXEC_AUDIT_SEGMENT_BYTES) this.rotate();
        if (this.size - this.pos - length < this.reserve / 2) this.extend(Math.max(this.reserve, length));
      } catch (err) {
        this.fail(err); // the event may still fit in what is left
      }
    }
    if (this.pos + length > this.size) {
      throw (
        this.problem ??
        new ExecError('exhausted', `the audit trail ${this.dir} has no room for an event`, { reason: 'AUDIT_TRAIL_FULL', metadata: { dir: this.dir } })
      );
    }
  }

  /** Renews the room ahead (a new segment when the current one is full); clears the problem when it could. */
  private restoreRoom(): boolean {
    try {
      if (this.pos >= this.config.EXEC_AUDIT_SEGMENT_BYTES) this.rotate();
      if (this.size - this.pos < this.reserve) this.extend(this.reserve);
    } catch (err) {
      this.fail(err);
      return false;
    }
    if (this.problem) {
      this.problem = undefined;
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
      this.health.set(HEALTH_PROBLEM.audit);
      this.log.info({ dir: this.dir }, 'the audit trail can be written again');
    }
    return true;
  }

  /** Zero-fills `add` more bytes at the end of the current segment, within EXEC_AUDIT_MAX_BYTES. */
  private extend(add: number): void {
    this.ensureBudget(add);
    try {
      zeroFill(this.fd!, this.size, add);
    } catch (err) {
      ftruncateSync(this.fd!, this.size);
      throw err;
    }
    this.size += add;
    this.segments[this.segments.length - 1].bytes = this.size;
  }

  /** Closes the current segment at its last event and begins the next, anchored to the chain's head. */
  private rotate(): void {
    const old = this.fd;
    const end = this.pos;
    const current = this.segments[this.segments.length - 1];
    this.startSegment();
    if (old === undefined) return;
    ftruncateSync(old, end);
    current.bytes = end;
    this.retire(old);
  }

  private startSegment(): void {
    this.ensureBudget(this.reserve);
    const firstSeq = this.head.seq + 1;
    const name = auditSegmentName(firstSeq);
    const file = this.segmentPath(name);
    const fd = openSync(file, 'w+');
    try {
      zeroFill(fd, 0, this.reserve);
      fdatasyncSync(fd);
      this.appendAnchor({ kind: 'segment', segment: name, first_seq: firstSeq, head_hash: this.head.hash });
    } catch (err) {
      closeSync(fd);
      rmSync(file, { force: true });
      throw err;
    }
    this.fd = fd;
    this.pos = 0;
    this.size = this.reserve;
    this.segments.push({ name, firstSeq, bytes: this.reserve });
    this.log.info({ segment: name, firstSeq }, 'audit segment begun');
  }

  private ensureBudget(add: number): void {
    const over = () => this.diskBytes + add > this.config.EXEC_AUDIT_MAX_BYTES;
    if (over()) this.removeExpired(Date.now());
    if (over()) {
      throw new ExecError(
        'exhausted',
        `the audit trail ${this.dir} is at its limit (EXEC_AUDIT_MAX_BYTES=${this.config.EXEC_AUDIT_MAX_BYTES}) and holds nothing older than ` +
          `EXEC_AUDIT_RETENTION_SECONDS=${this.config.EXEC_AUDIT_RETENTION_SECONDS}: calls it must record are refused until its oldest events expire (or the limit is raised)`,
        { reason: 'AUDIT_TRAIL_FULL', metadata: { dir: this.dir, setting: 'EXEC_AUDIT_MAX_BYTES' } },
      );
    }
  }

  private appendAnchor(fields: Record<string, unknown>): void {
    const seq = this.anchorHead.seq + 1;
    const { line, hash } = sealAuditLine(JSON.stringify({ seq, time: new Date().toISOString(), ...fields, prev_hash: this.anchorHead.hash }));
    const bytes = Buffer.from(`${line}\n`);
    writeAll(this.anchorsFd!, bytes, null);
    fdatasyncSync(this.anchorsFd!);
    this.anchorHead = { seq, hash };
  }

  /** The anchors file's head, and the segment anchors by name; a torn last line (a crash mid-write) is cut off. */
  private readAnchors(): Map<string, { firstSeq: number; headHash: string }> {
    const file = join(this.dir, AUDIT_ANCHORS_FILE);
    const found = new Map<string, { firstSeq: number; headHash: string }>();
    if (!existsSync(file)) return found;
    const text = readFileSync(file, 'utf8');
    const whole = text.lastIndexOf('\n') + 1;
    if (whole < text.length) {
      this.log.error({ file, bytes: Buffer.byteLength(text.slice(whole)) }, 'the audit anchors file ends with a torn line: cut off');
      const fd = openSync(file, 'r+');
      ftruncateSync(fd, Buffer.byteLength(text.slice(0, whole)));
      closeSync(fd);
    }
    for (const raw of text.slice(0, whole).split('\n')) {
      const opened = raw ? openAuditLine(raw) : undefined;
      if (!opened || typeof opened.event.seq !== 'number') continue;
      this.anchorHead = { seq: opened.event.seq, hash: opened.hash };
      const e = opened.event;
      if (e.kind === 'segment' && typeof e.segment === 'string') found.set(e.segment, { firstSeq: Number(e.first_seq), headHash: String(e.head_hash) });
    }
    return found;
  }

  /** Records why the trail cannot be written (once), reports it to health, and retries every second. */
  private fail(err: unknown): ExecError {
    const problem = trailError(err, this.dir);
    if (this.problem?.message !== problem.message) {
      this.log.error({ err: problem.message }, 'the audit trail cannot be written: calls it records are refused');
    }
    this.problem = problem;
    this.health.set(HEALTH_PROBLEM.audit, problem.message);
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setInterval(() => {
        this.sweep();
        this.restoreRoom();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
    return problem;
  }

  private syncInBackground(): void {
    if (!this.dirty || this.syncing || this.fd === undefined) return;
    this.dirty = false;
    this.syncing = true;
    fdatasync(this.fd, () => {
      this.syncing = false;
      for (const fd of this.retired.splice(0)) closeQuietly(fd);
    });
  }

  private retire(fd: number): void {
    try {
      fdatasyncSync(fd);
    } catch {
      /* closed below anyway */
    }
    if (this.syncing) this.retired.push(fd);
    else closeQuietly(fd);
  }
}

/** Drops unset fields ('', empty arrays and maps) so that a line holds what the event has. */
function compact<T extends object>(value: T | undefined): T | undefined {
  if (!value) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v) && !v.length) continue;
    if (typeof v === 'object' && !Array.isArray(v) && !Object.keys(v as object).length) continue;
    out[k] = v;
  }
  return Object.keys(out).length ? (out as T) : undefined;
}

/** A file-system failure of the trail, in words that name it. */
function trailError(err: unknown, dir: string): ExecError {
  if (err instanceof ExecError) return err as ExecError;
  const code = errnoOf(err) ?? '';
  if (DISK_FULL_ERRNO.has(code)) {
    return new ExecError(
      'exhausted',
      `the audit trail ${dir} cannot be written: its disk is full (${code}); calls it must record are refused until there is room`,
      { reason: 'AUDIT_TRAIL_FULL', metadata: { dir } },
    );
  }
  return new ExecError('unavailable', `the audit trail ${dir} cannot be written (${code || (err as Error)?.message}): calls it must record are refused`, {
    reason: 'AUDIT_TRAIL_UNWRITABLE',
    metadata: { dir },
  });
}

/** Time (ms) of a segment's first event, read from its first line; undefined when it has none. */
function firstEventMs(file: string): number | undefined {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const end = buf.subarray(0, n).indexOf(10);
    if (end <= 0) return undefined;
    const opened = openAuditLine(buf.subarray(0, end).toString('utf8'));
    const ms = opened ? Date.parse(String(opened.event.time)) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } finally {
    closeSync(fd);
  }
}

function zeroFill(fd: number, from: number, length: number): void {
  for (let done = 0; done < length;) done += writeSync(fd, ZEROS, 0, Math.min(ZEROS.length, length - done), from + done);
}

function writeAll(fd: number, buf: Buffer, position: number | null): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}
