import type { Metadata } from '@grpc/grpc-js';
import { Injectable, Inject, Optional } from '@nestjs/common';
import { ExecError, toGrpcStatus } from '../../common/errors';
import { quoted } from '../../common/request-ids';
import type { SessionRequest__Output } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { EXEC_METRICS, ROOT_LOGGER } from '../../common/tokens';
import type { ExecMetrics } from '../../metrics';
import type { ClientStream } from '../session';
import { aboutSession, callContextOf, requireScope, type CallContext } from './auth/call-context';
import { parseStart, type StartDto, type StartMode } from './start/start.dto';
import { startFingerprint } from './start/start-fingerprint';
import type { Session } from '../session';
import { SessionManager } from '../session';
import { ImagePullService } from '../container';
import { pullBeforeRun } from './start/pull-step';
import { RoutedCalls, type Owner } from '../cluster';
import { AuditTrail, type AuditAction, type AuditRequestRecord } from '../../audit';
import { statusName } from '../../common/log-levels';
import { callAudit, recordCall } from './auth/call-audit';

/**
 * A half-close is EOF only if the call is not cut within this time: HTTP/2 clients (grpc-js among them)
 * cancel a call by half-closing it and then resetting it, so a half-close alone does not yet say EOF.
 */
export const HALF_CLOSE_GRACE_MS = 200;

/** A Session call as the controller hands it over: the raw grpc-js duplex stream. */
export interface SessionCallStream extends ClientStream {
  on(event: 'data', fn: (msg: SessionRequest__Output) => void): unknown;
  on(event: 'end' | 'cancelled' | 'close' | 'error', fn: () => void): unknown;
  once(event: 'data', fn: (msg: SessionRequest__Output) => void): unknown;
  once(event: 'end' | 'cancelled' | 'drain' | 'close' | 'error', fn: () => void): unknown;
  removeListener(event: 'cancelled', fn: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  getPeer(): string;
  /** The request metadata, which carries the CallContext the auth interceptor bound (auth/call-context.ts). */
  metadata?: Metadata;
}

/**
 * Runs one Session call: the first message must be Start; it becomes a run, an exec or an attach;
 * then this call is one client of that session until the session's exit (or the client leaves).
 * Later messages (stdin, resize) go to the session's input, if this client may write it.
 */
@Injectable()
export class SessionCallHandler {
  private readonly log: Logger;

  constructor(
    private readonly sessions: SessionManager,
    private readonly pulls: ImagePullService,
    private readonly routed: RoutedCalls,
    @Inject(ROOT_LOGGER) root: Logger,
    @Optional() @Inject(EXEC_METRICS) private readonly metrics?: ExecMetrics | null,
    @Optional() private readonly trail?: AuditTrail,
  ) {
    this.log = root.child({ component: 'session-call' });
  }

  async handle(call: SessionCallStream): Promise<void> {
    const ctx = callContextOf(call.metadata, this.log, 'Session');
    let start: { dto: StartDto; mode: StartMode; message: SessionRequest__Output };
    let owner: Owner;
    try {
      start = await this.readStart(call);
      // A refusal from here on is recorded as the run, exec or attach it was (with what its Start asked).
      callAudit(ctx).action = start.mode;
      if (start.dto.session_id) aboutSession(ctx, start.dto.session_id);
      // attach needs `read`; run and exec need `run` (docs/PROTOCOL.md, "Scoped tokens").
      requireScope(ctx.principal, start.mode === 'attach' ? 'read' : 'run', `Session ${start.mode}`);
      // An attach (or an exec) is served by the replica that owns its session or container; a run here,
      // unless another replica already made it (a retry with its request_id attaches to it there).
      owner =
        start.mode === 'run'
          ? await this.routed.forRequestId(start.dto.request_id, call.metadata)
          : start.dto.session_id
            ? await this.routed.forSession(start.dto.session_id, call.metadata)
            : await this.routed.forContainer(start.dto.container_id, call.metadata);
    } catch (err) {
      return this.reject(call, ctx, err);
    }
    if (!owner.local) {
      ctx.log.debug({ replica: owner.replica, mode: start.mode }, 'Session forwarded to its owner');
      return this.routed.forwarder.session(call, start.message, owner);
    }
    // Messages after Start (stdin may follow at once) wait in gRPC's flow control until the session exists.
    call.pause();
    const { dto, mode } = start;
    // Until this client is attached (its Ready written), a drain waits for this call (SessionDrain).
    let setUp!: () => void;
    this.sessions.trackStart(new Promise<void>((resolve) => (setUp = resolve)));
    let session: Session;
    /** A run or exec Start whose request_id already created a session: this call attaches to it. */
    let retried: boolean;
    // A client that cancels while its run or exec is being set up frees its session slot at once.
    const setup = new AbortController();
    const onCancel = () => setup.abort();
    if ((call as { cancelled?: boolean }).cancelled) setup.abort();
    else call.once('cancelled', onCancel);
    try {
      // Start.pull: the image is pulled (progress sent as pull_progress) before the session exists.
      await pullBeforeRun(this.pulls, dto, mode, call, setup.signal, ctx.log);
      if (mode === 'attach' && dto.request_id) {
        throw new ExecError('invalid', 'request_id belongs to a run or exec Start, not an attach', { reason: 'FIELD_INVALID', field: 'start.request_id' });
      }
      const started =
        mode === 'attach'
          ? { session: this.findForAttach(dto), retried: false }
          : await this.sessions.startOnce({
              image: mode === 'run' ? dto.image : undefined,
              containerId: mode === 'exec' ? dto.container_id : undefined,
              command: dto.command,
              env: dto.env,
              workingDir: dto.working_dir,
              tty: dto.tty,
              openStdin: dto.open_stdin,
              clientId: dto.client_id,
              // With a request_id the set-up goes on when the client leaves: its retry attaches to that session.
              cancel: dto.request_id ? undefined : setup.signal,
              requestId: dto.request_id,
              requestFingerprint: dto.request_id ? startFingerprint(dto, mode) : undefined,
              user: dto.user,
              labels: dto.labels,
              limits: {
                memoryBytes: dto.memory_bytes,
                cpus: dto.cpus,
                pidsLimit: dto.pids_limit,
                readOnlyRootfs: dto.read_only_rootfs,
                timeoutMs: dto.timeout_ms,
                idleTimeoutMs: dto.idle_timeout_ms,
                killGraceMs: dto.kill_grace_ms,
                outputLimitBytes: dto.output_limit_bytes,
              },
            });
      ({ session, retried } = started);
      if (retried) this.sessions.admitClient(session);
    } catch (err) {
      setUp();
      return this.reject(call, ctx, err, dto.session_id);
    } finally {
      call.removeListener('cancelled', onCancel);
    }
    aboutSession(ctx, session.id);
    try {
      // Recorded before Ready answers it; a retried run's Start attaches to the session it made.
      recordCall(this.trail, ctx, { action: retried ? 'attach' : mode, session_id: session.id, container_id: session.containerId, exec_id: session.execId });
    } catch (err) {
      setUp();
      return this.reject(call, ctx, err, session.id);
    }
    ctx.log.debug({ mode, retried, containerId: session.containerId.slice(0, 12) }, 'Session started');
    this.metrics?.sessionStarted(retried ? 'attach' : mode);
    const writer = (mode !== 'attach' && !retried) || !!session.input?.mayWrite(false, dto.client_id);
    this.routeInput(call, ctx, session, writer);
    call.resume();
    const attached = session.attach(call, { fromSequence: dto.replay_from_sequence || 1, sequenced: dto.sequenced });
    setUp(); // Ready is written: a drain from now on tells this client like any other
    await attached;
  }

  /** The first message, which must be a valid Start. */
  private readStart(call: SessionCallStream): Promise<{ dto: StartDto; mode: StartMode; message: SessionRequest__Output }> {
    return new Promise((resolve, reject) => {
      call.once('data', (msg: SessionRequest__Output) => {
        call.pause();
        try {
          if (!msg.start) throw new ExecError('invalid', `first message must be start, got ${msg.msg ?? 'an empty message'}`, { reason: 'UNEXPECTED_MESSAGE' });
          resolve({ ...parseStart(msg.start), message: msg });
        } catch (err) {
          reject(err);
        }
      });
      call.once('end', () => reject(new ExecError('invalid', 'call closed before a Start message', { reason: 'UNEXPECTED_MESSAGE' })));
      call.once('cancelled', () => reject(new ExecError('aborted', 'client cancelled before Start', { reason: 'CLIENT_CANCELLED' })));
    });
  }

  private findForAttach(dto: StartDto): Session {
    const session = dto.session_id ? this.sessions.get(dto.session_id) : this.sessions.findByContainer(dto.container_id!, dto.exec_id);
    if (dto.session_id && dto.container_id && !session.containerId.startsWith(dto.container_id)) {
      throw new ExecError('invalid', `session ${quoted(dto.session_id)} does not belong to container ${quoted(dto.container_id)}`, {
        reason: 'FIELD_INVALID',
        field: 'start.container_id',
      });
    }
    if (dto.session_id && dto.exec_id && session.execId !== dto.exec_id) {
      throw new ExecError('invalid', `session ${quoted(dto.session_id)} does not belong to exec ${quoted(dto.exec_id)}`, {
        reason: 'FIELD_INVALID',
        field: 'start.exec_id',
      });
    }
    if (dto.replay_from_sequence > session.output.lastSequence + 1) {
      // A client cannot have seen chunks that do not exist yet: a wrong number, not a resume point.
      throw new ExecError('invalid', `replay_from_sequence ${dto.replay_from_sequence} is past the session's next chunk (${session.output.lastSequence + 1})`, {
        reason: 'FIELD_INVALID',
        field: 'start.replay_from_sequence',
      });
    }
    this.sessions.admitClient(session);
    return session;
  }

  /**
   * stdin and resize from this client. A bad message ends this client's call with its code; the
   * session and its other clients go on. When the process cannot take more stdin, the call is paused,
   * so gRPC flow control slows the sender instead of memory filling here.
   */
  private routeInput(call: SessionCallStream, ctx: CallContext, session: Session, writer: boolean): void {
    const input = session.input;
    // The audit trail records the first stdin message of a call (stdin opened) and every resize, before they reach the process.
    let stdinRecorded = false;
    const record = (action: AuditAction, request?: AuditRequestRecord, err?: unknown) => {
      const status = err === undefined ? undefined : toGrpcStatus(err);
      this.trail?.record({
        action,
        result: status ? statusName(status.code) : 'ok',
        reason: status?.details,
        caller: ctx.caller,
        request_id: ctx.requestId,
        session_id: session.id,
        container_id: session.containerId,
        exec_id: session.execId,
        request,
      });
    };
    const refuse = (err: unknown, action: AuditAction, request?: AuditRequestRecord) => {
      call.pause();
      try {
        record(action, request, err);
      } catch (e) {
        ctx.log.error({ err: (e as Error).message }, 'a refused call could not be recorded in the audit trail');
      }
      this.reject(call, ctx, err, session.id);
    };
    call.on('data', (msg: SessionRequest__Output) => {
      const action: AuditAction = msg.resize ? 'resize' : msg.start ? 'session' : 'stdin';
      const request = msg.resize ? { width: msg.resize.Width ?? 0, height: msg.resize.Height ?? 0 } : undefined;
      try {
        if (msg.start) throw new ExecError('invalid', 'a call carries one Start; open a new call for another session', { reason: 'UNEXPECTED_MESSAGE' });
        requireScope(ctx.principal, 'run', msg.resize ? 'Session resize' : 'Session stdin');
        if (!writer) {
          throw new ExecError('permission', 'only the client that started this session (or one with its client_id) may send stdin or resize', {
            reason: 'NOT_SESSION_WRITER',
            resource: { type: 'session', name: session.id },
          });
        }
        if (msg.resize) {
          if (!input)
            throw new ExecError('precondition', 'resize needs a tty session', { reason: 'NOT_A_TTY', resource: { type: 'session', name: session.id } });
          // Checked and scheduled (the size is applied after RESIZE_DEBOUNCE_MS), then recorded before it is applied.
          input.resize(msg.resize.Width ?? 0, msg.resize.Height ?? 0);
          return record('resize', request);
        }
        if (msg.msg === 'stdin' || msg.stdin) {
          if (!input) {
            throw new ExecError('precondition', 'stdin is not open for this session: start it with open_stdin (or tty)', {
              reason: 'STDIN_NOT_OPEN',
              resource: { type: 'session', name: session.id },
            });
          }
          if (!stdinRecorded) {
            record('stdin');
            stdinRecorded = true;
          }
          if (!input.write(msg.stdin ?? Buffer.alloc(0))) {
            call.pause();
            input.onDrain(() => call.resume());
          }
          return;
        }
        throw new ExecError('invalid', 'empty SessionRequest', { reason: 'UNEXPECTED_MESSAGE' });
      } catch (err) {
        refuse(err, action, request);
      }
    });
    if (!writer || !input) return;
    // Half-closing the call is EOF on stdin; output goes on until exit. A cut call (cancel, dropped
    // connection) is not EOF: see HALF_CLOSE_GRACE_MS for why a half-close waits a moment.
    let halfClosed = false;
    call.on('end', () => {
      const timer = setTimeout(() => {
        if (call.cancelled || call.destroyed) return;
        halfClosed = true;
        input.end();
      }, HALF_CLOSE_GRACE_MS);
      call.once('cancelled', () => clearTimeout(timer));
    });
    call.once('close', () =>
      setImmediate(() => {
        if (!halfClosed && session.running) input.writerLeft();
      }),
    );
  }

  /** Ends the call with the error's status; the interceptor's end line says it, with the session when known. */
  private reject(call: SessionCallStream, ctx: CallContext, err: unknown, sessionId?: string): void {
    if (sessionId) aboutSession(ctx, sessionId);
    call.emit('error', toGrpcStatus(err));
  }
}
