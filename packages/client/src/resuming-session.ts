import { status, type ServiceError } from '@grpc/grpc-js';
import type { CallOptions } from './call-options';
import { ERROR_REASONS, isErrorReason } from './error-reasons';
import { collectOutput } from './exec-client';
import type { AttachOptions, ExecClient, ExecSession, OutputPiece, ProcessOptions, ReadyInfo } from './exec-client';
import type { Outcome__Output } from './gen';

export interface ResumeOptions {
  /**
   * How long to keep trying to get back in when the connection is lost, counted from the drop (or
   * from the last chunk or Ready received, if later); then the caller gets the last error. Default 60 s: long enough for the
   * service to restart and re-adopt its sessions.
   */
  reconnectWindowMs?: number;
  /** Told about each reconnect attempt (logging, tests). */
  onReconnect?: (info: { attempt: number; fromSequence: number; error: Error }) => void;
}

const BACKOFF_FIRST_MS = 50;
const BACKOFF_MAX_MS = 1000;

/**
 * A session that survives transient disconnects: it uses sequenced output, remembers the last
 * sequence it handed to the caller, and when the call drops (UNAVAILABLE: connection lost, server
 * restarting or draining; a stream reset this client did not ask for, CANCELLED; or a call that ended
 * with neither exit nor status) it attaches again with
 * session_id and replay_from_sequence = last + 1. The caller sees one unbroken stream: every chunk once,
 * in order, then the exit code. Any other status (NOT_FOUND, DATA_LOSS, ABORTED, …) is final and is
 * passed on, as is a failure before Ready (a run that never started is not started again).
 *
 * Not for stdin/TTY input: what was typed into a dropped call is not re-sent.
 */
export class ResumingSession {
  readonly ready: Promise<ReadyInfo>;
  readonly exit: Promise<number>;
  /** Sequence of the last chunk handed to the caller (0 before the first). */
  lastSequence = 0;
  /** Successful re-attaches so far. */
  reconnects = 0;
  private sessionId?: string;
  /** The starter's client_id, sent again on each re-attach so that stdin and resize stay ours. */
  private clientId?: string;
  private cancelled = false;
  private consuming = false;
  private resolveExit!: (code: number) => void;
  private rejectExit!: (e: unknown) => void;

  private constructor(
    private readonly client: ExecClient,
    private current: ExecSession,
    private readonly options: ResumeOptions,
    fromSequence = 0,
    /** The caller's CallOptions: the deadline bounded the first set-up; metadata and signal apply to every re-attach too. */
    private readonly call: CallOptions = {},
  ) {
    this.lastSequence = Math.max(0, fromSequence - 1);
    // `cancelled` is the one record of "this client asked for it" (cancel(), or its signal, at once).
    if (call.signal?.aborted) this.cancelled = true;
    else call.signal?.addEventListener('abort', () => this.cancel(), { once: true });
    this.ready = current.ready;
    this.ready.then((r) => (this.sessionId = r.sessionId)).catch(() => undefined);
    this.exit = new Promise((res, rej) => ((this.resolveExit = res), (this.rejectExit = rej)));
    this.exit.catch(() => undefined);
  }

  static run(client: ExecClient, image: string, options: ProcessOptions & ResumeOptions = {}, call?: CallOptions): ResumingSession {
    return new ResumingSession(client, client.run(image, { ...options, sequenced: true }, call), options, 0, call).withClientId(options.clientId);
  }

  static exec(client: ExecClient, containerId: string, options: ProcessOptions & ResumeOptions & { command: string[] }, call?: CallOptions): ResumingSession {
    return new ResumingSession(client, client.exec(containerId, { ...options, sequenced: true }, call), options, 0, call).withClientId(options.clientId);
  }

  /**
   * Attach to an existing session (e.g. one this process ran before it restarted), by session id, or by
   * container id (then reconnects use the session id Ready names).
   */
  static attach(
    client: ExecClient,
    attach: AttachOptions & ({ sessionId: string } | { containerId: string }),
    options: ResumeOptions = {},
    call?: CallOptions,
  ): ResumingSession {
    const s = new ResumingSession(client, client.attach({ ...attach, sequenced: true }, call), options, attach.fromSequence ?? 0, call);
    if (attach.sessionId) s.sessionId = attach.sessionId;
    return s.withClientId(attach.clientId);
  }

  /** Output pieces in order, each exactly once across reconnects. Throws a final error, if any. */
  async *output(): AsyncGenerator<OutputPiece> {
    if (this.consuming) throw new Error('output() can be consumed once');
    this.consuming = true;
    let lastProgress = Date.now();
    for (;;) {
      let failure: Error;
      try {
        for await (const piece of this.current.output()) {
          if (piece.sequence !== undefined) {
            if (piece.sequence <= this.lastSequence) continue; // already handed over before a drop
            this.lastSequence = piece.sequence;
          }
          lastProgress = Date.now();
          yield piece;
        }
        const code = await this.current.exit; // rejects when the call ended without exit or status
        this.resolveExit(code);
        return;
      } catch (err) {
        failure = err as Error;
      }
      if (this.cancelled || !this.sessionId || !isTransient(failure)) {
        this.rejectExit(failure);
        throw failure;
      }
      try {
        // The window runs from the drop (or the last chunk, if later): a quiet session that loses its
        // connection still gets its full window to come back.
        await this.reattach(failure, Math.max(lastProgress, Date.now()));
        lastProgress = Date.now();
      } catch (err) {
        this.rejectExit(err);
        throw err;
      }
    }
  }

  async wait(): Promise<number> {
    if (!this.consuming) for await (const _ of this.output());
    return this.exit;
  }

  collect(): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> {
    return collectOutput(this.output(), this.exit);
  }

  /** Why the process ended, once the server sent its Outcome. */
  get outcome(): Outcome__Output | undefined {
    return this.current.outcome;
  }

  /**
   * Stdin and resize go to the current call. With a clientId they may go on after a reconnect; bytes
   * written into a call that then dropped are not re-sent.
   */
  write(data: Buffer): Promise<void> {
    return this.current.write(data);
  }

  resize(width: number, height: number): void {
    this.current.resize(width, height);
  }

  closeStdin(): void {
    this.current.closeStdin();
  }

  /** Leaves the session for good (no reconnect). */
  cancel(): void {
    this.cancelled = true;
    this.current.cancel();
  }

  private withClientId(clientId?: string): this {
    this.clientId = clientId || undefined;
    return this;
  }

  /** Attaches again from lastSequence + 1, backing off, until Ready or the window has passed. */
  private async reattach(cause: Error, lastProgress: number): Promise<void> {
    const windowMs = this.options.reconnectWindowMs ?? 60_000;
    let error = cause;
    for (let attempt = 1; ; attempt++) {
      if (this.cancelled) throw error;
      if (Date.now() - lastProgress > windowMs) {
        throw Object.assign(new Error(`gave up reconnecting to session ${this.sessionId} after ${windowMs} ms: ${error.message}`), {
          code: (error as ServiceError).code,
          cause: error,
        });
      }
      const fromSequence = this.lastSequence + 1;
      this.options.onReconnect?.({ attempt, fromSequence, error });
      await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1)));
      if (this.cancelled) throw error; // cancel() during the back-off
      const next = this.client.attach(
        { sessionId: this.sessionId, fromSequence, sequenced: true, clientId: this.clientId },
        { metadata: this.call.metadata, signal: this.call.signal },
      );
      try {
        await next.ready;
        if (this.cancelled) {
          next.cancel(); // cancel() while this attach was under way: it must not live on
          throw error;
        }
        this.current = next;
        this.reconnects++;
        return;
      } catch (err) {
        next.cancel();
        if (!isTransient(err as Error)) throw err;
        error = err as Error;
      }
    }
  }
}

/**
 * A disconnect, not an answer: UNAVAILABLE (connection refused or dropped, server draining), a call
 * that ended with neither exit nor status (no code), or CANCELLED when this client cancelled nothing
 * (the callers check that first): exec-stream never sends CANCELLED, so it is the stream being reset
 * under the call, as a server's forced shutdown at the end of its drain does, and grpc-js reports a
 * reset that races the connection's close as CANCELLED "Call cancelled" rather than UNAVAILABLE.
 * Everything else the server said on purpose, and so is an UNAVAILABLE whose reason the service marks
 * final (OUTCOME_LOST: the outcome is gone for good, and every reattach would get Ready and the same
 * status again).
 */
function isTransient(err: Error): boolean {
  const code = (err as Partial<ServiceError>).code;
  if (code !== undefined && code !== status.UNAVAILABLE && code !== status.CANCELLED) return false;
  const reason = (err as { reason?: unknown }).reason;
  return !(isErrorReason(reason) && !ERROR_REASONS[reason].retry);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
