import type { Logger } from '../../common/logger';
import { ExecError, toGrpcStatus } from '../../common/errors';
import type { Outcome, Ready, SessionResponse } from '@exec-stream/client/wire';
import { waitForDrain } from '@exec-stream/client/wire';
import type { ChunkRecord } from '../output';
import { encodeOutputChunk, encodePlain } from '../output';
import type { OutputLog } from '../output';
import { sessionEndError, type OutcomeRecord, type SessionOutcome } from './session-outcome';
import { msToNs } from '../../common/time';

/** What a cursor needs of a gRPC call: the raw grpc-js duplex stream satisfies it. */
export interface ClientStream {
  /** A message object, or a SessionResponse already encoded (passed through by the serializer). */
  write(message: SessionResponse | Buffer, callback?: (err?: Error | null) => void): boolean;
  /** grpc-js: the client cancelled (or went away) — possibly before this cursor existed. */
  readonly cancelled?: boolean;
  readonly destroyed?: boolean;
  end(): void;
  emit(event: 'error', err: { code: number; details: string }): boolean;
  once(event: 'drain' | 'cancelled' | 'close' | 'error', fn: () => void): unknown;
  on(event: 'cancelled' | 'close' | 'error', fn: () => void): unknown;
  removeListener(event: string, fn: () => void): unknown;
}

/** An Outcome record as the wire's Outcome message (int64 as decimal strings, times in Unix ns). */
export function toWireOutcome(r: OutcomeRecord): Outcome {
  return {
    exit_code: r.exitCode,
    signal: r.signal,
    reason: r.reason,
    started_at: msToNs(r.startedAt).toString(),
    finished_at: msToNs(r.finishedAt).toString(),
    stdout_bytes: String(r.stdoutBytes),
    stderr_bytes: String(r.stderrBytes),
    message: r.message,
    timeout_signal: r.timeoutSignal,
  };
}

/** What one client may have written but not yet taken by HTTP/2, beyond the message being written. */
const MAX_IN_FLIGHT = 1024 * 1024;

export interface CursorOptions {
  /** First chunk to send (≥ 1). */
  fromSequence: number;
  /** Send output_chunk messages (sequence, timestamp) instead of plain stdout/stderr. */
  sequenced: boolean;
  /** Ready message (without replay_complete) sent first. */
  ready: Omit<Ready, 'replay_complete'>;
}

/**
 * One attached client: a position in the session's output log. It sends what the client has not had,
 * one chunk at a time, and when grpc-js says its buffer is full (write() → false) it waits for
 * 'drain': the server holds at most one chunk for a slow client, never a queue, and the container is
 * never slowed (the log is filled independently). `exit` goes only after the last chunk.
 */
export class ClientCursor {
  private next: number;
  /** Missing chunks skipped since the last chunk sent: the next one's gap_before. */
  private gap = 0;
  /** Bytes written to the call that HTTP/2 has not taken yet. */
  private inFlight = 0;
  private closed = false;
  private wake?: () => void;
  /** Woken when HTTP/2 took enough of this client's bytes (separate: it must not end a 'drain' wait). */
  private wakeTaken?: () => void;
  /** Aborted when this client is done (gone, or failed): a blocked write stops waiting for 'drain'. */
  private readonly done = new AbortController();
  private readonly onGone = () => this.markClosed();

  constructor(
    private readonly output: OutputLog,
    private readonly outcome: () => SessionOutcome | undefined,
    private readonly call: ClientStream,
    private readonly options: CursorOptions,
    private readonly logger: Logger,
  ) {
    this.next = Math.max(1, options.fromSequence);
    // The client may have left while its run was being started: those events fired before we listened.
    if (call.cancelled || call.destroyed) this.closed = true;
    call.on('cancelled', this.onGone);
    call.on('close', this.onGone);
    call.on('error', this.onGone);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Waiting for or sending a chunk that has left the in-memory tail: this client reads from disk. */
  get behindTail(): boolean {
    return !this.closed && this.next <= this.output.lastSequence && !this.output.inTail(this.next);
  }

  /** Sequence of the next chunk this client will be sent. */
  get position(): number {
    return this.next;
  }

  /** Delivers until the session ends (then exit / error status) or the client goes away. */
  async run(): Promise<void> {
    const replayEnd = this.output.lastSequence;
    const replaying = this.options.sequenced && replayEnd >= this.next;
    this.call.write({ ready: { ...this.options.ready, replay_complete: !replaying } });
    try {
      let replayAnnounced = !replaying;
      while (!this.closed) {
        if (!replayAnnounced && this.next > replayEnd) {
          replayAnnounced = true;
          if (!this.call.write({ ready: { ...this.options.ready, replay_complete: true } })) await this.drained();
          continue;
        }
        if (this.next <= this.output.lastSequence) {
          const chunk = await this.readNext();
          if (this.closed) break;
          if (!chunk) continue; // skipped damaged or lost chunks: counted in `gap`
          this.next = chunk.sequence + 1;
          this.output.sentTally?.add(chunk.stream, chunk.data.length);
          await this.send(this.message(chunk, chunk.sequence <= replayEnd));
          continue;
        }
        if (this.output.finished) return this.finish();
        await this.waitForOutput();
      }
    } catch (err) {
      // A read of the session's files failed (corrupt or missing): tell this client, keep the others.
      this.logger.error({ err: (err as Error).message, sequence: this.next }, 'client delivery failed');
      this.fail(err);
    } finally {
      this.detach();
    }
  }

  /** Ends this client's call with an error status (the session goes on). */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.call.emit('error', toGrpcStatus(sessionEndError(err, this.options.ready.session_id ?? '')));
    this.done.abort();
    this.wake?.();
  }

  /**
   * Chunk `next`, or, where chunks are missing (damaged files, output lost in a restart), nothing:
   * `next` moves past them and `gap` counts them for the next chunk's gap_before. A plain (reference)
   * client has no way to be told of a gap, so it gets DATA_LOSS instead of silently missing bytes.
   */
  private async readNext(): Promise<ChunkRecord | undefined> {
    const { sequence, gap } = this.output.nextAvailable(this.next);
    if (gap) {
      if (!this.options.sequenced) {
        throw new ExecError(
          'data_loss',
          `chunks ${this.next}..${sequence - 1} of this session are missing (damaged or lost); use Start.sequenced to read past the gap`,
        );
      }
      this.gap += gap;
      this.next = sequence;
      return undefined;
    }
    try {
      const got = this.output.get(this.next);
      return got instanceof Promise ? await got : got;
    } catch (err) {
      if (!(err instanceof ExecError && err.kind === 'data_loss')) throw err;
      this.logger.error({ err: err.message, sequence: this.next }, 'chunk failed verification: never served, reported as a gap');
      this.output.markMissing(this.next);
      return undefined;
    }
  }

  private finish(): void {
    if (this.gap) {
      // The missing chunks are the last ones: no chunk follows to carry gap_before.
      return this.fail(new ExecError('data_loss', `the session's last ${this.gap} chunks are missing (damaged or lost)`));
    }
    const outcome = this.outcome();
    // The Outcome goes right before `exit` (or the error status), to every client: a reference client skips the unknown field.
    if (outcome?.record) this.call.write({ outcome: toWireOutcome(outcome.record) });
    if (outcome && 'exitCode' in outcome) {
      this.call.write({ exit: outcome.exitCode });
      this.closed = true;
      this.call.end();
    } else {
      this.fail(outcome?.error ?? new Error('session ended without an outcome'));
    }
  }

  /**
   * The chunk as wire bytes. The common encodings (plain; sequenced, live, no gap) are made once per
   * chunk and shared by every client, so fan-out costs one encode, not one per client.
   */
  private message(chunk: ChunkRecord, isReplay: boolean): Buffer {
    if (!this.options.sequenced) return (chunk.plainMessage ??= encodePlain(chunk.stream, chunk.data));
    const gap = this.gap;
    this.gap = 0;
    if (!isReplay && !gap) return (chunk.liveMessage ??= encodeOutputChunk(chunk, false, 0));
    return encodeOutputChunk(chunk, isReplay, gap);
  }

  /**
   * Writes one message, then waits while this client has more than MAX_IN_FLIGHT bytes not yet taken
   * by HTTP/2 (the write callbacks say what was taken), or while grpc-js asks for 'drain'. grpc-js
   * alone would queue 16 messages per client — up to 8 MiB of 512 KiB chunks — before saying so.
   */
  private async send(message: Buffer): Promise<void> {
    this.inFlight += message.length;
    const size = message.length;
    const ok = this.call.write(message, () => {
      this.inFlight -= size;
      if (this.inFlight <= MAX_IN_FLIGHT) this.wakeTaken?.();
    });
    if (!ok) await this.drained();
    while (!this.closed && this.inFlight > MAX_IN_FLIGHT) await new Promise<void>((resolve) => (this.wakeTaken = resolve));
  }

  private waitForOutput(): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.output.waitFor(this.next, resolve);
      // Leaving while idle removes the waiter: quiet sessions with attach/detach churn keep none.
      this.wake = () => {
        cancel();
        resolve();
      };
    });
  }

  private drained(): Promise<void> {
    if (this.closed || this.call.destroyed) {
      this.closed = true;
      return Promise.resolve();
    }
    return waitForDrain(this.call, this.done.signal);
  }

  private markClosed(): void {
    this.closed = true;
    this.done.abort();
    this.wake?.();
    this.wakeTaken?.();
  }

  private detach(): void {
    this.call.removeListener('cancelled', this.onGone);
    this.call.removeListener('close', this.onGone);
    this.call.removeListener('error', this.onGone);
  }
}
