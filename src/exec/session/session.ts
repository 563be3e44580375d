import type { Logger } from '../../common/logger';
import { ExecError } from '../../common/errors';
import type { StartedProcess } from '../../executor';
import type { TeeWriter } from '../output';
import { ClientCursor, type ClientStream, type CursorOptions } from './client-cursor';
import { type OutputLog } from '../output';
import type { SessionFiles } from '../output';
import { ProcessInput, type TerminalSize } from './process-input';
import { buildOutcome, sessionEndError, storedError, type KillReason, type SessionOutcome } from './session-outcome';
import { preciseNowNs } from '../../common/time';

export type { SessionOutcome } from './session-outcome';
export type SessionKind = 'run' | 'exec';

/** Start's timeouts, in ms; 0 = none (armed by session-timeouts.ts). */
export interface TimeoutSpec {
  timeoutMs: number;
  idleTimeoutMs: number;
  /** SIGTERM → SIGKILL grace on expiry (the default EXEC_KILL_GRACE_MS already applied). */
  killGraceMs: number;
}

export interface SessionInfo {
  id: string;
  kind: SessionKind;
  image?: string;
  command: string[];
  tty: boolean;
  createdAt: number;
  /** Start.labels, kept with the session (meta.json) and matched by ListSessions. */
  labels?: Record<string, string>;
  /** Start.request_id: a retried Start with it attaches here (request-id-index.ts). */
  requestId?: string;
  /** What the Start asked for (request-id-index.ts): a retry that asks for something else is refused. */
  requestFingerprint?: string;
  /** Start's timeouts when it set any (meta.json): a session re-adopted after a restart is held to them. */
  timeouts?: TimeoutSpec;
  /** The most output it records (Start.output_limit_bytes, or EXEC_SESSION_OUTPUT_BYTES); kept in meta.json. */
  outputLimitBytes?: number;
}

/**
 * One process (a run's container or an exec) and its output. Owns the output log and the clients
 * attached to it; knows nothing of gRPC beyond the ClientStream a cursor writes to.
 */
export class Session {
  containerId = '';
  execId?: string;
  startedAt?: number;
  finishedAt?: number;
  outcome?: SessionOutcome;
  private reasonForKill?: KillReason;
  /** The last signal a timeout sent the process (15, then 9 after the grace): Outcome.timeout_signal. */
  timeoutSignal?: number;
  process?: StartedProcess;
  /** Stdin and terminal size, when the process has either. */
  input?: ProcessInput;
  private readonly clients = new Set<ClientCursor>();
  /** Called once when the session has finished, before its exit record is written (the audit trail's session_end). */
  onFinished?: (session: Session) => void;

  constructor(
    readonly info: SessionInfo,
    readonly files: SessionFiles,
    readonly output: OutputLog,
    readonly tee: TeeWriter,
    readonly logger: Logger,
  ) {}

  get id(): string {
    return this.info.id;
  }

  /** Set by whoever makes the service end the process (timeouts, ContainerSignal) before it signals: Outcome.reason. */
  get killReason(): KillReason | undefined {
    return this.reasonForKill;
  }

  /** Also persisted (kill.json), so an Outcome after a restart still says why the service ended the process. */
  set killReason(reason: KillReason | undefined) {
    if (reason === this.reasonForKill) return;
    this.reasonForKill = reason;
    if (!reason || !this.running) return;
    try {
      this.files.writeKillReason(reason);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, reason }, 'could not record why the process is ended: a restart would not know it');
    }
  }

  /** A reason read back from kill.json at start-up (not written again). */
  restoreKillReason(reason: KillReason): void {
    this.reasonForKill = reason;
  }

  get running(): boolean {
    return !this.outcome;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Attached clients reading from disk, behind the in-memory tail (metrics). */
  get clientsBehindTail(): number {
    let n = 0;
    for (const c of this.clients) if (c.behindTail) n++;
    return n;
  }

  bind(started: StartedProcess, starterClientId = ''): void {
    this.process = started;
    this.containerId = started.containerId;
    this.execId = started.execId;
    this.startedAt = Date.now();
    if (started.stdin || started.resize) this.input = new ProcessInput(started, starterClientId, this.logger, (size) => this.recordResize(size));
  }

  /** A terminal size applied, recorded beside the output (`resizes`) for the session's recording. */
  private recordResize(size: TerminalSize): void {
    try {
      this.files.appendResize({ timestamp: preciseNowNs(), width: size.width, height: size.height, after_sequence: this.output.lastSequence });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, size }, 'terminal size not recorded: the recording will miss it');
    }
  }

  /** Records how the process ended, then lets readers drain to it. Only the first call counts. */
  finish(outcome: SessionOutcome): void {
    if (this.outcome) return;
    if ('error' in outcome) sessionEndError(outcome.error, this.id);
    this.finishedAt = Date.now();
    const built = buildOutcome({
      outcome,
      killReason: this.killReason,
      timeoutSignal: this.timeoutSignal,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      bytes: this.output.bytes,
    });
    this.outcome = { ...outcome, record: built };
    this.input?.dispose();
    try {
      this.onFinished?.(this);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'the end of the session could not be recorded in the audit trail');
    }
    const record =
      'exitCode' in outcome
        ? { exitCode: outcome.exitCode, finishedAt: this.finishedAt, outcome: built }
        : { error: storedError(outcome.error), finishedAt: this.finishedAt, outcome: built };
    try {
      this.files.writeExit(record);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'could not write exit record');
    }
    this.logger.info({ ...record, bytes: this.output.bytes, chunks: this.output.lastSequence }, 'session finished');
    this.output.finish();
    if (!this.clients.size) this.output.releaseMemory();
  }

  /** Attaches one more client and delivers to it; resolves when that client is done. */
  attach(call: ClientStream, options: Omit<CursorOptions, 'ready'>): Promise<void> {
    const cursor = new ClientCursor(
      this.output,
      () => this.outcome,
      call,
      {
        ...options,
        ready: {
          session_id: this.id,
          container_id: this.containerId,
          exec_id: this.execId ?? '',
          terminal_size: this.input?.size ? { Width: this.input.size.width, Height: this.input.size.height } : undefined,
        },
      },
      this.logger,
    );
    this.clients.add(cursor);
    // A reader keeps the session's files open (they are closed for a finished session nobody reads).
    const release = this.files.hold();
    this.logger.debug({ clients: this.clients.size }, 'client attached');
    return cursor.run().finally(() => {
      release();
      this.clients.delete(cursor);
      if (!this.clients.size && this.outcome) this.output.releaseMemory();
      this.logger.debug({ clients: this.clients.size }, 'client detached');
    });
  }

  /** Ends every attached client's call with this error (used on shutdown). */
  disconnectClients(err: ExecError): void {
    for (const c of this.clients) c.fail(err);
  }
}
