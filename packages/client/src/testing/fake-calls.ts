import { Metadata, status as Code } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { ContainerLifecycleEvent__Output, SessionRequest, SessionResponse__Output, Start } from '../gen';
import { ScriptedFailure, statusOf, type FakeExecService, type FakeSession, type ScriptedError } from './fake-exec-service';

type Status = { code: Code; details: string; metadata: Metadata };

/** Ends a fake call as grpc-js ends a real one: 'error' (with a ServiceError-like value) or 'end', then 'status'. */
abstract class FakeCall extends EventEmitter {
  protected done = false;

  protected failWith(s: Status): void {
    if (this.done) return;
    this.done = true;
    this.emit('error', Object.assign(new Error(`${s.code} ${Code[s.code]}: ${s.details}`), s));
    this.emit('status', s);
    this.closed();
  }

  protected complete(): void {
    if (this.done) return;
    this.done = true;
    this.emit('end');
    this.emit('status', { code: Code.OK, details: 'OK', metadata: new Metadata() });
    this.closed();
  }

  /** The client cancels: CANCELLED, as grpc-js says it. */
  cancel(): void {
    this.failWith({ code: Code.CANCELLED, details: 'Cancelled on client', metadata: new Metadata() });
  }

  protected abstract closed(): void;
}

/**
 * A Session call to the FakeExecService, shaped as the grpc-js duplex stream ExecSession reads: it
 * sends Ready, the session's chunks from the requested one on (replayed ones marked, then Ready
 * {replay_complete} for a sequenced client, as the service does), live chunks as the script makes them,
 * then the Outcome and `exit`, or the session's error status. It stops sending while paused (flow control).
 */
export class FakeSessionCall extends FakeCall {
  private session?: FakeSession;
  private start?: Start;
  private next = 1;
  private replayEnd = 0;
  private replayAnnounced = true;
  private writer = false;
  private paused = false;
  private scheduled = false;
  private readonly pendingInput: SessionRequest[] = [];
  private unwatch?: () => void;
  private readonly drop = (reset: boolean) =>
    this.failWith(
      reset
        ? { code: Code.CANCELLED, details: 'Call cancelled', metadata: new Metadata() }
        : { code: Code.UNAVAILABLE, details: 'Connection dropped (a scripted disconnect)', metadata: new Metadata() },
    );

  constructor(private readonly service: FakeExecService) {
    super();
  }

  write(msg: SessionRequest): boolean {
    if (this.done) return false;
    if (msg.start) {
      const start = msg.start;
      setImmediate(() => this.open(start));
    } else if (!this.session) this.pendingInput.push(msg);
    else this.input(msg);
    return true;
  }

  /** Half-close: EOF on stdin, from the session's writer. */
  end(): void {
    if (this.session && this.writer && !this.done) this.service.write(this.session, Buffer.alloc(0));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  isPaused(): boolean {
    return this.paused;
  }

  protected closed(): void {
    this.unwatch?.();
    if (this.session) this.service.drops.get(this.session.id)?.delete(this.drop);
  }

  private open(start: Start): void {
    if (this.done) return;
    let session: FakeSession;
    try {
      session = this.service.open(start);
    } catch (err) {
      if (err instanceof ScriptedFailure) return this.failWith(statusOf(err.scripted));
      throw err;
    }
    this.session = session;
    this.start = start;
    const attach = session.start !== start;
    const starterId = session.start.client_id;
    this.writer = !attach || (!!starterId && start.client_id === starterId && !!(session.start.open_stdin || session.start.tty));
    this.next = Math.max(1, Number(start.replay_from_sequence ?? 0));
    this.replayEnd = session.chunks.length;
    const replaying = !!start.sequenced && this.replayEnd >= this.next;
    this.replayAnnounced = !replaying;
    this.emit('data', { msg: 'ready', ready: { ...this.ready(), replay_complete: !replaying } } satisfies SessionResponse__Output);
    const drops = this.service.drops.get(session.id) ?? new Set();
    drops.add(this.drop);
    this.service.drops.set(session.id, drops);
    this.unwatch = this.service.watch(session, () => this.schedule());
    for (const m of this.pendingInput.splice(0)) this.input(m);
    this.schedule();
  }

  private ready() {
    const s = this.session!;
    return {
      session_id: s.id,
      container_id: s.containerId,
      exec_id: s.execId,
      ...(s.start.tty ? { terminal_size: { Width: 80, Height: 24 } } : {}),
    };
  }

  private input(msg: SessionRequest): void {
    const s = this.session!;
    const refuse = (e: ScriptedError) => this.failWith(statusOf(e));
    const resource = { type: 'session' as const, name: s.id };
    if (!this.writer) {
      return refuse({
        reason: 'NOT_SESSION_WRITER',
        message: 'only the client that started this session (or one with its client_id) may send stdin or resize',
        resource,
      });
    }
    if (msg.resize) {
      if (!s.start.tty) return refuse({ reason: 'NOT_A_TTY', message: 'resize needs a tty session', resource });
      s.resizes.push({ width: msg.resize.Width ?? 0, height: msg.resize.Height ?? 0 });
      return;
    }
    if (msg.stdin !== undefined && msg.stdin !== null) {
      if (!s.start.open_stdin && !s.start.tty) {
        return refuse({ reason: 'STDIN_NOT_OPEN', message: 'stdin is not open for this session: start it with open_stdin (or tty)', resource });
      }
      this.service.write(s, Buffer.from(msg.stdin));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Sends what this client has not had, as far as flow control lets it. */
  private pump(): void {
    const s = this.session!;
    while (!this.done && !this.paused) {
      if (!this.replayAnnounced && this.next > this.replayEnd) {
        this.replayAnnounced = true;
        if (s.finishedAt === undefined)
          this.emit('data', { msg: 'ready', ready: { ...this.ready(), replay_complete: true } } satisfies SessionResponse__Output);
        continue;
      }
      const chunk = s.chunks[this.next - 1];
      if (chunk) {
        this.next++;
        if (this.start!.sequenced) {
          const data = chunk.stream === 'stdout' ? { stdout: chunk.data } : { stderr: chunk.data };
          const output_chunk = {
            sequence: String(chunk.sequence),
            timestamp: String(chunk.timestampNs),
            data: chunk.stream,
            ...data,
            is_replay: chunk.sequence <= this.replayEnd,
            gap_before: '0',
          };
          this.emit('data', { msg: 'output_chunk', output_chunk } satisfies SessionResponse__Output);
        } else
          this.emit('data', {
            msg: chunk.stream,
            ...(chunk.stream === 'stdout' ? { stdout: chunk.data } : { stderr: chunk.data }),
          } satisfies SessionResponse__Output);
        continue;
      }
      if (s.finishedAt !== undefined && s.outcome) {
        this.emit('data', { msg: 'outcome', outcome: s.outcome as SessionResponse__Output['outcome'] } satisfies SessionResponse__Output);
        if (s.error) return this.failWith(statusOf(s.error));
        this.emit('data', { msg: 'exit', exit: s.exitCode ?? 0 } satisfies SessionResponse__Output);
        return this.complete();
      }
      return;
    }
  }
}

/** A ContainerLifecycle call to the FakeExecService: the held events after an id, then live ones. */
export class FakeLifecycleCall extends FakeCall {
  private unsubscribe?: () => void;

  constructor(service: FakeExecService, containerId: string, resumeAfterId: number | undefined) {
    super();
    setImmediate(() => {
      if (this.done) return;
      const fits = (e: ContainerLifecycleEvent__Output) => !containerId || (e.container_id ?? '').startsWith(containerId);
      if (resumeAfterId !== undefined) for (const e of service.events) if (Number(e.id) > resumeAfterId && fits(e)) this.emit('data', e);
      this.unsubscribe = service.onEvent((e) => fits(e) && !this.done && this.emit('data', e));
    });
  }

  protected closed(): void {
    this.unsubscribe?.();
  }
}
