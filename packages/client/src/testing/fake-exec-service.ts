import { Metadata, status as Code } from '@grpc/grpc-js';
import { randomBytes, randomUUID } from 'node:crypto';
import { ERROR_DOMAIN, ERROR_REASONS, type ErrorReason, type ResourceType } from '../error-reasons';
import type { ContainerLifecycleEvent__Output, Outcome, SessionInfo, Start } from '../gen';
import { encodeStatusDetails, STATUS_DETAILS_KEY } from '../status-details';

/** One step of a scripted process: output to produce (after `delayMs`), or a pause until stdin holds a text. */
export type ScriptStep =
  | { stdout: string | Buffer; delayMs?: number }
  | { stderr: string | Buffer; delayMs?: number }
  /** Waits until the session's stdin (all received so far) contains this text. */
  | { untilStdin: string }
  /**
   * Every client attached now loses its connection (UNAVAILABLE, no status details); the process goes on.
   * With `reset`, the stream is reset instead, as a server's forced shutdown does (RST_STREAM CANCEL):
   * grpc-js then says CANCELLED "Call cancelled", though the client cancelled nothing.
   */
  | { disconnect: true | 'reset'; delayMs?: number };

/** An error as exec-stream sends it: code, reason of ERROR_REASONS, message, and the object concerned. */
export interface ScriptedError {
  reason: ErrorReason;
  message: string;
  resource?: { type: ResourceType; name: string };
}

/** What a scripted session does: its output, then its exit code, or an error instead. */
export interface SessionScript {
  output?: ScriptStep[];
  /** The exit code (default 0); 128 + n reads as ended by signal n. */
  exitCode?: number;
  /** Ends with this error (after the output) instead of an exit code: the outcome is lost. */
  error?: ScriptedError;
  /** Fails the Start itself, before Ready (an image not found, a limit reached, …). */
  refuse?: ScriptedError;
  /** Signals (ControlClient.signal, stop) are ignored: the process runs to the end of its script. */
  ignoreSignals?: boolean;
}

/** A session of the fake service: what was started, what it produced, what it was sent. */
export interface FakeSession {
  readonly id: string;
  readonly containerId: string;
  readonly execId: string;
  readonly start: Start;
  readonly chunks: Array<{ sequence: number; stream: 'stdout' | 'stderr'; data: Buffer; timestampNs: bigint }>;
  /** Everything written to its stdin, and whether stdin was closed (EOF). */
  stdin: Buffer;
  stdinClosed: boolean;
  resizes: Array<{ width: number; height: number }>;
  paused: boolean;
  createdAt: number;
  startedAt: number;
  finishedAt?: number;
  /** Set once it ended: its Outcome and exit code, or its error. */
  outcome?: Outcome;
  exitCode?: number;
  error?: ScriptedError;
  /** Set by a signal: the process ends with 128 + n. */
  killedBy?: number;
}

type Listener = () => void;

/** A Start the fake refuses, as the service would (its status built by statusOf). */
export class ScriptedFailure extends Error {
  constructor(readonly scripted: ScriptedError) {
    super(scripted.message);
  }
}

/** The status of a scripted error: code, message and the grpc-status-details-bin trailer, as the service sends them. */
export function statusOf(e: ScriptedError): { code: Code; details: string; metadata: Metadata } {
  const code = ERROR_REASONS[e.reason].code;
  const metadata = new Metadata();
  metadata.set(
    STATUS_DETAILS_KEY,
    encodeStatusDetails(code, e.message, {
      reason: e.reason,
      domain: ERROR_DOMAIN,
      metadata: {},
      resource: e.resource,
      retryDelayMs: ERROR_REASONS[e.reason].retry ? 1000 : undefined,
      fieldViolations: [],
    }),
  );
  return { code, details: e.message, metadata };
}

/**
 * The in-memory exec-stream behind FakeExecClient and FakeControlClient: scripts matched against
 * each Start, the sessions they made (their output kept, as the service keeps it for late attaches),
 * and the processes that play the scripts.
 */
export class FakeExecService {
  readonly sessions: FakeSession[] = [];
  /** Lifecycle events, as ContainerLifecycle gives them (ids from 1). */
  readonly events: ContainerLifecycleEvent__Output[] = [];
  private readonly eventListeners = new Set<(e: ContainerLifecycleEvent__Output) => void>();
  private readonly scripts: Array<{ match: (start: Start) => boolean; script: SessionScript }> = [];
  private readonly scriptBySession = new Map<string, SessionScript>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly replica = 'fake';

  /** The script of every run of `image` (the last one given for a Start wins). */
  onRun(image: string, script: SessionScript): this {
    return this.when((s) => s.image === image, script);
  }

  /** The script of every exec whose command starts with `command` (all of it when omitted). */
  onExec(command: string[] | undefined, script: SessionScript): this {
    return this.when((s) => !s.image && !!s.command?.length && (!command || command.every((c, i) => s.command![i] === c)), script);
  }

  when(match: (start: Start) => boolean, script: SessionScript): this {
    this.scripts.unshift({ match, script });
    return this;
  }

  /** The session a Start runs (or names, for an attach); throws the error a real service would answer. */
  open(start: Start): FakeSession {
    if (start.session_id || (start.container_id && !start.command?.length)) return this.find(start);
    const script = this.scripts.find((s) => s.match(start))?.script;
    if (!script) {
      throw new ScriptedFailure({
        reason: 'IMAGE_NOT_FOUND',
        message: `no script for ${start.image ? `image ${start.image}` : `exec ${String(start.command)}`} (FakeExecService.onRun / onExec)`,
        resource: { type: 'image', name: start.image ?? '' },
      });
    }
    if (script.refuse) throw new ScriptedFailure(script.refuse);
    if (start.container_id && !this.sessions.some((s) => s.containerId === start.container_id && !s.finishedAt)) {
      throw new ScriptedFailure({
        reason: 'CONTAINER_NOT_FOUND',
        message: `container ${start.container_id} not found`,
        resource: { type: 'container', name: start.container_id },
      });
    }
    const now = Date.now();
    const session: FakeSession = {
      id: `${this.replica}.${randomUUID()}`,
      containerId: start.container_id || randomBytes(32).toString('hex'),
      execId: start.container_id ? randomBytes(32).toString('hex') : '',
      start,
      chunks: [],
      stdin: Buffer.alloc(0),
      stdinClosed: !start.open_stdin && !start.tty,
      resizes: [],
      paused: false,
      createdAt: now,
      startedAt: now,
    };
    this.sessions.push(session);
    this.scriptBySession.set(session.id, script);
    this.publish(session, 'started', 'running');
    void this.play(session, script);
    return session;
  }

  /** The session an attach names: by id, or a container's run session (else its newest exec). */
  find(by: { session_id?: string; container_id?: string }): FakeSession {
    const s = by.session_id
      ? this.sessions.find((x) => x.id === by.session_id)
      : (this.sessions.find((x) => x.containerId.startsWith(by.container_id ?? '') && !x.execId) ??
        [...this.sessions].reverse().find((x) => x.containerId.startsWith(by.container_id ?? '')));
    if (!s) {
      const name = by.session_id ?? by.container_id ?? '';
      throw new ScriptedFailure({
        reason: 'SESSION_NOT_FOUND',
        message: `session ${name} not found (unknown, or its retention expired)`,
        resource: { type: 'session', name },
      });
    }
    return s;
  }

  /** The session running in a container (its run, else its newest exec); CONTAINER_NOT_FOUND. */
  container(containerId: string): FakeSession {
    const all = this.sessions.filter((x) => x.containerId.startsWith(containerId));
    const s = all.find((x) => !x.execId) ?? all[all.length - 1];
    if (!s)
      throw new ScriptedFailure({
        reason: 'CONTAINER_NOT_FOUND',
        message: `container ${containerId} not found`,
        resource: { type: 'container', name: containerId },
      });
    return s;
  }

  /** The script a session plays. */
  scriptOf(session: FakeSession): SessionScript | undefined {
    return this.scriptBySession.get(session.id);
  }

  /** Calls `fn` whenever the session changes (a chunk, its end, a resume); returns the unsubscribe. */
  watch(session: FakeSession, fn: Listener): () => void {
    const set = this.listeners.get(session.id) ?? new Set();
    set.add(fn);
    this.listeners.set(session.id, set);
    return () => set.delete(fn);
  }

  changed(session: FakeSession): void {
    for (const fn of [...(this.listeners.get(session.id) ?? [])]) fn();
  }

  /** Records a lifecycle event of the session's container and tells the subscribers. */
  publish(s: FakeSession, type: string, status: string, extra: Partial<ContainerLifecycleEvent__Output> = {}): void {
    const e: ContainerLifecycleEvent__Output = {
      id: String(this.events.length + 1),
      container_id: s.containerId,
      event_type: type,
      status,
      timestamp: String(BigInt(Date.now()) * 1_000_000n),
      session_id: s.id,
      exec_id: s.execId,
      source: 'service',
      replica: this.replica,
      ...extra,
    };
    this.events.push(e);
    for (const fn of [...this.eventListeners]) fn(e);
  }

  onEvent(fn: (e: ContainerLifecycleEvent__Output) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  /** stdin of a session: bytes, or EOF (an empty buffer). */
  write(session: FakeSession, data: Buffer): void {
    if (data.length === 0) session.stdinClosed = true;
    else session.stdin = Buffer.concat([session.stdin, data]);
    this.changed(session);
  }

  /** A signal to the session's process: it ends with 128 + n, unless its script ignores signals. */
  signal(session: FakeSession, n: number, ignore: boolean): void {
    if (session.finishedAt) return;
    this.publish(session, 'killed', 'running', { signal: n });
    if (ignore) return;
    session.killedBy = n;
    this.changed(session);
  }

  remove(session: FakeSession): void {
    this.sessions.splice(this.sessions.indexOf(session), 1);
    this.listeners.delete(session.id);
  }

  /** ListSessions's view of a session. */
  info(s: FakeSession): SessionInfo {
    const bytes = s.chunks.reduce((n, c) => n + c.data.length, 0);
    return {
      session_id: s.id,
      container_id: s.containerId,
      exec_id: s.execId,
      image: s.start.image ?? '',
      command: s.start.command ?? [],
      tty: !!s.start.tty,
      state: s.finishedAt ? 'finished' : 'running',
      clients_attached: this.listeners.get(s.id)?.size ?? 0,
      created_at: String(BigInt(s.createdAt) * 1_000_000n),
      started_at: String(BigInt(s.startedAt) * 1_000_000n),
      finished_at: String(BigInt(s.finishedAt ?? 0) * 1_000_000n),
      ...(s.outcome ? { outcome: s.outcome } : {}),
      output_bytes: String(bytes),
      last_sequence: String(s.chunks.length),
      mode: s.execId ? 'exec' : 'run',
      labels: s.start.labels ?? {},
      request_id: s.start.request_id ?? '',
      replica: this.replica,
    };
  }

  /** Plays a script: its steps in order (output waits while the container is paused), then its end. */
  private async play(s: FakeSession, script: SessionScript): Promise<void> {
    // Each step waits for its condition, or for a signal, which ends the process at once.
    const until = (ready: () => boolean, delayMs = 0) =>
      new Promise<void>((resolve) => {
        const due = Date.now() + delayMs;
        let timer: NodeJS.Timeout | undefined;
        const check = () => {
          if (s.killedBy !== undefined || (Date.now() >= due && !s.paused && ready())) {
            clearTimeout(timer);
            unwatch();
            resolve();
          } else if (Date.now() < due && !timer) timer = setTimeout(() => ((timer = undefined), check()), due - Date.now());
        };
        const unwatch = this.watch(s, check);
        check();
      });
    for (const step of script.output ?? []) {
      if ('untilStdin' in step) await until(() => s.stdin.includes(step.untilStdin));
      else await until(() => true, step.delayMs);
      if (s.killedBy !== undefined) break;
      if ('disconnect' in step) {
        this.drops.get(s.id)?.forEach((drop) => drop(step.disconnect === 'reset'));
        continue;
      }
      if (!('untilStdin' in step)) {
        const stream = 'stdout' in step ? 'stdout' : 'stderr';
        const text = 'stdout' in step ? step.stdout : step.stderr;
        const data = Buffer.from(text);
        s.chunks.push({ sequence: s.chunks.length + 1, stream, data, timestampNs: BigInt(Date.now()) * 1_000_000n });
        this.changed(s);
      }
    }
    s.finishedAt = Date.now();
    const bytes = (stream: 'stdout' | 'stderr') => String(s.chunks.filter((c) => c.stream === stream).reduce((n, c) => n + c.data.length, 0));
    const times = { started_at: String(BigInt(s.startedAt) * 1_000_000n), finished_at: String(BigInt(s.finishedAt) * 1_000_000n) };
    if (script.error && s.killedBy === undefined) {
      s.error = script.error;
      s.outcome = {
        exit_code: -1,
        signal: 0,
        reason: 'lost',
        message: script.error.message,
        stdout_bytes: bytes('stdout'),
        stderr_bytes: bytes('stderr'),
        ...times,
      };
    } else {
      const exitCode = s.killedBy !== undefined ? 128 + s.killedBy : (script.exitCode ?? 0);
      const signal = exitCode > 128 && exitCode <= 192 ? exitCode - 128 : 0;
      const reason = s.killedBy !== undefined ? 'killed_by_request' : signal ? 'signaled' : 'exited';
      const message =
        reason === 'killed_by_request'
          ? `ended by signal ${signal}, sent through ContainerSignal`
          : signal
            ? `ended by signal ${signal} (exit code ${exitCode})`
            : `exited with code ${exitCode}`;
      s.exitCode = exitCode;
      s.outcome = { exit_code: exitCode, signal, reason, message, stdout_bytes: bytes('stdout'), stderr_bytes: bytes('stderr'), ...times };
    }
    this.publish(s, 'exited', 'exited', { exit_code: s.exitCode ?? -1, message: s.outcome.message ?? '' });
    this.changed(s);
  }

  /** Connection drops of the calls attached to each session (a script's `disconnect` step). */
  readonly drops = new Map<string, Set<(reset: boolean) => void>>();
}
