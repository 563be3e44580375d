import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError, withDetail, type DetailByKind } from '../../common/errors';
import { quoted } from '../../common/request-ids';
import type { Logger } from '../../common/logger';
import { CONTAINER_CONTROL, CONTAINER_RUNTIME, EXEC_CONFIG, EXEC_METRICS, ROOT_LOGGER, SESSION_AUDIT } from '../../common/tokens';
import type { SessionReports } from '../../common/reporting';
import { auditTimeoutKill, type SessionAuditTrail } from './session-audit';
import { sessionCensus } from './session-census';
import type { ContainerControl, ContainerRuntime, StartedProcess } from '../../executor';
import { dataDirBudget, TailBudget, TeeWriterFactory, type OutputBudget } from '../output';
import { DataDirError } from '../output';
import { DataDirHealth } from '../output';
import { type Session, type SessionInfo } from './session';
import { assembleSession } from './session-assembly';
import { resolveContainerLimits, resolveOutputLimit, resolveTimeouts, type RequestedLimits } from './process-limits';
import { armSessionTimeouts, type TimeoutSpec } from './session-timeouts';
import { removingDir, SessionFiles, sessionsDir } from '../output';
import { RequestIdIndex } from './request-id-index';
import { listSessions, type SessionFilter, type SessionPage } from './session-listing';

export interface NewProcess {
  image?: string;
  containerId?: string;
  command: string[];
  env: Record<string, string>;
  workingDir?: string;
  tty: boolean;
  /** Keep stdin open for SessionRequest.stdin (always so for a tty). */
  openStdin: boolean;
  /** The starting client's client_id: a later attach with the same id may write stdin. */
  clientId?: string;
  /** Fires when the client gives up during set-up: start then rejects ABORTED and frees the slot at once. */
  cancel?: AbortSignal;
  /** The user the process runs as (name or uid[:gid]); unset = the image's. */
  user?: string;
  /** Labels for the session (and a run's container, under the managed labels). */
  labels?: Record<string, string>;
  /** Start.request_id: a Start retried with it gets the session it created (startOnce). */
  requestId?: string;
  /** requestFingerprint() of the Start: a retry must ask for the same thing. */
  requestFingerprint?: string;
  /** Start's resource limits (runs) and timeouts (runs and execs), checked against the EXEC_MAX_* settings. */
  limits?: RequestedLimits;
}

/**
 * The singleton registry of sessions, by session id and by container id. Starts runs and execs,
 * enforces the limits, and forgets finished sessions once their retention has passed (never one with
 * a client still attached).
 */
@Injectable()
export class SessionManager implements OnModuleDestroy {
  private readonly byId = new Map<string, Session>();
  private readonly requestIds = new RequestIdIndex();
  /** Disarms the timeouts of running sessions (on drain: the next start re-arms them at re-adoption). */
  private readonly timeoutDisarms = new Set<() => void>();
  private readonly log: Logger;
  private readonly sweeper: NodeJS.Timeout;
  /** Folder removals sweep() started that have not finished. */
  private readonly removing = new Set<Promise<void>>();
  /**
   * Takes over a session whose process lost its connection to Docker ('unavailable'), returning true
   * when it will end the session itself with Docker's outcome once Docker is back (set by SessionRecovery).
   */
  onDockerLost?: (session: Session, error: ExecError) => boolean;
  /** Set on shutdown: no new sessions or clients; running containers are left for re-adoption. */
  private drainReason?: string;
  /** Starts being set up (trackStart). */
  private readonly starts = new Set<Promise<void>>();
  /** Bytes of the folders being removed (counted as free while their removal runs). */
  private removingBytes = 0;
  private budgetRead?: OutputBudget;

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly tees: TeeWriterFactory,
    private readonly tailBudget: TailBudget,
    @Optional() private readonly dataDir?: DataDirHealth,
    @Optional() @Inject(CONTAINER_CONTROL) private readonly control?: ContainerControl,
    @Optional() @Inject(EXEC_METRICS) private readonly metrics?: SessionReports | null,
    /** The audit trail: every session's end and timeout kills are recorded in it. */
    @Optional() @Inject(SESSION_AUDIT) readonly audit?: SessionAuditTrail,
  ) {
    this.log = root.child({ component: 'sessions' });
    metrics?.observeSessions(() => sessionCensus(this.byId.values()));
    this.sweeper = setInterval(() => this.sweep(), Math.min(10_000, config.EXEC_RETENTION_SECONDS * 250));
    this.sweeper.unref();
    // After each probe of the data directory (every second) and each failed write there.
    if (dataDir) dataDir.onSpace = (free) => this.keepReserve(free);
  }

  /** Each session's output limit and the reserve (DataDirHealth's, from the data directory's file system). */
  get budget(): OutputBudget {
    return this.dataDir?.budget ?? (this.budgetRead ??= dataDirBudget(this.config));
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  get runningCount(): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.running) n++;
    return n;
  }

  /** Creates the session, its files and its TeeWriter, then has the runtime start the process. */
  async start(spec: NewProcess): Promise<Session> {
    if (this.drainReason) throw new ExecError('unavailable', this.drainReason, { reason: 'SHUTTING_DOWN' });
    if (this.runningCount >= this.config.EXEC_MAX_SESSIONS) {
      throw new ExecError('exhausted', `too many running sessions (EXEC_MAX_SESSIONS=${this.config.EXEC_MAX_SESSIONS})`, {
        reason: 'SESSION_LIMIT',
        metadata: { setting: 'EXEC_MAX_SESSIONS', limit: String(this.config.EXEC_MAX_SESSIONS) },
      });
    }
    this.dataDir?.assertWritable();
    const containerLimits = spec.image ? resolveContainerLimits(spec.limits ?? {}, this.config) : undefined;
    const timeouts = resolveTimeouts(spec.limits ?? {}, this.config);
    const outputLimitBytes = resolveOutputLimit(spec.limits?.outputLimitBytes, this.budget.sessionBytes);
    const info: SessionInfo = {
      // Names its replica, so that any replica can forward a call about it to this one (docs/SCALING.md).
      id: `${this.config.EXEC_REPLICA_ID}.${randomUUID()}`,
      kind: spec.image ? 'run' : 'exec',
      image: spec.image,
      command: spec.command,
      tty: spec.tty,
      createdAt: Date.now(),
      labels: spec.labels && Object.keys(spec.labels).length ? spec.labels : undefined,
      requestId: spec.requestId || undefined,
      requestFingerprint: spec.requestId ? spec.requestFingerprint : undefined,
      timeouts: timeouts.timeoutMs || timeouts.idleTimeoutMs ? timeouts : undefined,
      outputLimitBytes,
    };
    const logger = this.log.child({ sessionId: info.id });
    let files: SessionFiles;
    try {
      files = SessionFiles.create(join(sessionsDir(this.config.EXEC_DATA_DIR), info.id), { version: 1, ...info, containerId: spec.containerId });
    } catch (err) {
      this.dataDir?.failed(err);
      throw err;
    }
    const session = assembleSession(info, files, this.tailBudget, this.tees, logger, this.audit);
    // Output that cannot be recorded stops the process at once (once it is known: it may come first).
    let unrecorded: DataDirError | undefined;
    session.output.onRecordFailed = (err) => {
      if (!(err instanceof DataDirError) || unrecorded) return;
      unrecorded = err;
      if (session.containerId) this.stopUnrecorded(session, err);
    };
    this.byId.set(info.id, session); // counted against the limit while Docker is asked
    let started: StartedProcess;
    const cancelled = { files: false };
    try {
      const base = {
        sessionId: info.id,
        command: spec.command,
        env: spec.env,
        workingDir: spec.workingDir,
        tty: spec.tty,
        openStdin: spec.openStdin || spec.tty,
        user: spec.user,
      };
      const starting = spec.image
        ? this.runtime.run({ ...base, image: spec.image, limits: containerLimits, labels: spec.labels }, session.tee, spec.cancel)
        : this.runtime.exec({ ...base, containerId: spec.containerId!, killedByService: () => session.killReason !== undefined }, session.tee, spec.cancel);
      started = await this.unlessCancelled(starting, spec.cancel, files, cancelled, logger);
    } catch (err) {
      this.byId.delete(info.id);
      if (!cancelled.files) files.destroy();
      throw withDetail(err, startFailure(spec));
    }
    session.bind(started, spec.clientId);
    this.armOutputLimit(session);
    this.armTimeouts(session, timeouts, session.startedAt);
    if (unrecorded) this.stopUnrecorded(session, unrecorded);
    // Observed at once, before any other await: its failure must never be an unhandled rejection.
    started.done
      .then(
        (outcome) => session.finish(outcome),
        (err) => {
          const error = err instanceof ExecError ? (err as ExecError) : new ExecError('unavailable', String(err));
          // Docker went away mid-run: the session waits for Docker's own outcome instead (session-recovery.ts).
          if (!(err instanceof DataDirError) && this.onDockerLost?.(session, error)) return;
          session.finish({ error });
        },
      )
      .finally(() => {
        // Not while draining: the process "ended" only for us (files sealed); it runs on, to be re-adopted.
        // Not while the session waits for Docker's outcome: that path removes it once the outcome is in.
        if (info.kind === 'run' && this.config.EXEC_REMOVE_CONTAINERS && !this.drainReason && session.outcome) void this.runtime.remove(session.containerId);
      });
    try {
      // Which container (and exec) this is: restart recovery needs it to find the process again.
      files.writeProcess({ containerId: started.containerId, execId: started.execId, startedAt: session.startedAt ?? Date.now() });
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not write process.json: this session cannot be re-adopted after a restart');
    }
    await session.input?.applyInitial();
    return session;
  }

  /**
   * A Start being set up (until its client is attached): the drain waits for these (startsSettled), so a
   * Start in flight at SIGTERM either gets its Ready, then UNAVAILABLE, or makes no container.
   */
  trackStart(setup: Promise<unknown>): void {
    const settled = setup.then(
      () => undefined,
      () => undefined,
    );
    this.starts.add(settled);
    void settled.then(() => this.starts.delete(settled));
  }

  /** Resolves once every Start tracked so far is set up or failed, or after `maxMs`. */
  async startsSettled(maxMs: number): Promise<void> {
    if (!this.starts.size) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.starts]), new Promise((r) => (timer = setTimeout(r, maxMs)))]);
    clearTimeout(timer);
  }

  /** A Start with this request_id created a session here (retained, or still being set up). */
  hasRequestId(requestId: string): boolean {
    return this.requestIds.has(requestId);
  }

  /**
   * start(), unless `spec.requestId` already created a session (retained, or still being set up): then
   * that session, with `retried` true (the caller attaches to it; no second process). The same id with a
   * different request is ALREADY_EXISTS.
   */
  async startOnce(spec: NewProcess): Promise<{ session: Session; retried: boolean }> {
    if (!spec.requestId) return { session: await this.start(spec), retried: false };
    const fingerprint = spec.requestFingerprint ?? '';
    const earlier = this.requestIds.find(spec.requestId, fingerprint);
    if (earlier) return { session: await earlier, retried: true };
    const starting = this.start({ ...spec, requestFingerprint: fingerprint });
    this.requestIds.track(spec.requestId, fingerprint, starting);
    return { session: await starting, retried: false };
  }

  /**
   * `starting`, or ABORTED as soon as `cancel` fires (the caller then frees the slot at once). A process
   * that still starts after that is stopped (a run's container removed, an exec killed); the session's
   * files go once nothing can write to them any more (`owner.files` tells the caller not to).
   */
  private unlessCancelled(
    starting: Promise<StartedProcess>,
    cancel: AbortSignal | undefined,
    files: SessionFiles,
    owner: { files: boolean },
    logger: Logger,
  ): Promise<StartedProcess> {
    if (!cancel) return starting;
    return new Promise((resolve, reject) => {
      let gaveUp = false;
      const onCancel = () => {
        gaveUp = owner.files = true;
        reject(new ExecError('aborted', 'the client cancelled while its session was being set up', { reason: 'CLIENT_CANCELLED' }));
      };
      if (cancel.aborted) onCancel();
      else cancel.addEventListener('abort', onCancel, { once: true });
      starting.then(
        (p) => {
          cancel.removeEventListener('abort', onCancel);
          if (!gaveUp) return resolve(p);
          logger.warn({ containerId: p.containerId, execId: p.execId }, 'process started after its client cancelled: stopped');
          if (p.execId) this.control?.signalExec(p.execId, 9).catch(() => undefined);
          else void this.runtime.remove(p.containerId);
          p.done.catch(() => undefined).finally(() => files.destroy());
        },
        (err) => {
          cancel.removeEventListener('abort', onCancel);
          if (gaveUp) files.destroy();
          else reject(err);
        },
      );
    });
  }

  /**
   * The session's output could not be recorded (full data disk, no fds): its process must not run on
   * unobserved, so a run's container is killed and removed (whatever EXEC_REMOVE_CONTAINERS says) and
   * an exec's process is killed. Its clients get the recording failure as the session's status.
   */
  private stopUnrecorded(session: Session, err: DataDirError): void {
    this.dataDir?.failed(err);
    session.logger.error({ err: err.message }, 'output could not be recorded: the process is killed');
    if (session.info.kind === 'run') void this.runtime.remove(session.containerId);
    else if (session.execId && this.control) {
      this.control.signalExec(session.execId, 9).catch((e: Error) => session.logger.warn({ err: e.message }, 'could not kill the exec whose output was lost'));
    }
  }

  /**
   * A bound session's process is killed (SIGKILL) once its output reaches the session's limit, its
   * Outcome.reason then `output_limit` (recorded in kill.json first); at once when it already has, or
   * when it was being ended so before a restart. What comes past the limit is not recorded (OutputLog).
   */
  armOutputLimit(session: Session): void {
    session.output.onLimitReached = () => this.stopOverLimit(session);
    if (session.output.overLimit || session.killReason === 'output_limit') this.stopOverLimit(session);
  }

  private stopOverLimit(session: Session): void {
    if (!session.running || !session.containerId) return;
    session.killReason ??= 'output_limit';
    session.logger.warn({ limitBytes: session.output.limitBytes }, 'output reached its limit: the process is killed');
    const kill = session.execId ? this.requireControl().signalExec(session.execId, 9) : this.requireControl().kill(session.containerId, 9);
    kill.catch((err: Error) => session.running && session.logger.warn({ err: err.message }, 'could not kill the process whose output reached its limit'));
  }

  /**
   * Arms a bound session's timeouts (session-timeouts.ts), the hard one counted from `startedAt` (Unix ms;
   * a session re-adopted after a restart passes its process's recorded start). Not while draining.
   */
  armTimeouts(session: Session, spec: TimeoutSpec, startedAt?: number): void {
    if (this.drainReason) return;
    const disarm = armSessionTimeouts(
      session,
      spec,
      (n) => (session.execId ? this.requireControl().signalExec(session.execId, n) : this.requireControl().kill(session.containerId, n)),
      startedAt,
      (reason, n) => auditTimeoutKill(this.audit, session, reason, n),
    );
    this.timeoutDisarms.add(disarm);
    const forget = () => this.timeoutDisarms.delete(disarm);
    session.process?.done.then(forget, forget);
  }

  private requireControl(): ContainerControl {
    if (!this.control) throw new ExecError('internal', 'no CONTAINER_CONTROL: timeouts cannot signal the process', { reason: 'INTERNAL' });
    return this.control;
  }

  get(sessionId: string): Session {
    const s = this.byId.get(sessionId);
    if (!s) {
      throw new ExecError('not_found', `session ${quoted(sessionId)} not found (unknown, or its retention expired)`, {
        reason: 'SESSION_NOT_FOUND',
        resource: { type: 'session', name: sessionId },
      });
    }
    return s;
  }

  /**
   * The session for a container: with execId, that exec; without, the container's run session, else
   * its newest exec. Accepts a full id or a unique prefix, as docker does.
   */
  findByContainer(containerId: string, execId?: string): Session {
    const full = this.containerByPrefix(containerId);
    const matches = [...this.byId.values()].filter((s) => !!full && s.containerId === full);
    const found = execId
      ? (matches.find((s) => s.execId === execId) ??
        uniqueExec(
          matches.filter((s) => !!s.execId && s.execId.startsWith(execId)),
          execId,
        ))
      : (matches.find((s) => s.info.kind === 'run') ?? matches.sort((a, b) => b.info.createdAt - a.info.createdAt)[0]);
    if (!found) {
      throw new ExecError('not_found', `no session for container ${quoted(containerId)}${execId ? ` exec ${quoted(execId)}` : ''}`, {
        reason: 'SESSION_NOT_FOUND',
        resource: { type: 'session', name: '', owner: execId ? `${containerId} exec ${execId}` : containerId },
      });
    }
    return found;
  }

  /**
   * The full id of the one container that sessions here ran in and whose id starts with `prefix`;
   * undefined when none; INVALID_ARGUMENT when several do (an ambiguous prefix is never resolved by guessing).
   */
  containerByPrefix(prefix: string): string | undefined {
    const ids = new Set([...this.byId.values()].map((s) => s.containerId).filter((id) => !!id && id.startsWith(prefix)));
    if (ids.size > 1)
      throw new ExecError(
        'invalid',
        `container id prefix ${quoted(prefix)} is ambiguous: ${ids.size} containers of retained sessions match; give more of the id`,
        {
          reason: 'ID_AMBIGUOUS',
          resource: { type: 'container', name: prefix },
        },
      );
    return [...ids][0];
  }

  /** Checks the per-session client limit before a client attaches. */
  admitClient(session: Session): void {
    if (this.drainReason) throw new ExecError('unavailable', this.drainReason, { reason: 'SHUTTING_DOWN' });
    if (session.clientCount >= this.config.EXEC_MAX_CLIENTS_PER_SESSION) {
      throw new ExecError(
        'exhausted',
        `session ${session.id} has ${session.clientCount} clients (EXEC_MAX_CLIENTS_PER_SESSION=${this.config.EXEC_MAX_CLIENTS_PER_SESSION})`,
        {
          reason: 'CLIENT_LIMIT',
          resource: { type: 'session', name: session.id },
          metadata: { setting: 'EXEC_MAX_CLIENTS_PER_SESSION', limit: String(this.config.EXEC_MAX_CLIENTS_PER_SESSION) },
        },
      );
    }
  }

  all(): Session[] {
    return [...this.byId.values()];
  }

  /** ListSessions: one page of the retained sessions that match `filter` (session-listing.ts). */
  list(filter: SessionFilter): SessionPage {
    return listSessions(this.byId.values(), filter);
  }

  /** Adds a session that was not started here: one loaded from the data dir after a restart. */
  register(session: Session): void {
    if (this.byId.has(session.id)) throw new ExecError('internal', `session ${session.id} is registered twice`, { reason: 'INTERNAL' });
    this.byId.set(session.id, session);
    this.requestIds.add(session);
  }

  /** Refuses new sessions and clients from now on (shutdown); `reason` is what callers are told. */
  beginDrain(reason: string): void {
    this.drainReason = reason;
    clearInterval(this.sweeper);
    // The processes run on, to be re-adopted: their timeouts are the next start's to enforce.
    for (const disarm of this.timeoutDisarms) disarm();
    this.timeoutDisarms.clear();
  }

  get draining(): boolean {
    return !!this.drainReason;
  }

  /** Resolves once every folder removal sweep() has started so far has finished. */
  async removalsSettled(): Promise<void> {
    await Promise.all([...this.removing]);
  }

  /**
   * Forgets finished sessions that no client is reading and deletes their files (in the background): those past
   * EXEC_RETENTION_SECONDS, then, while all sessions' files exceed EXEC_RETENTION_BYTES, the
   * oldest-finished first. Running sessions count toward the size but are never removed.
   */
  sweep(now = Date.now()): number {
    let removed = 0;
    const removable = [...this.byId.values()].filter((s) => !s.running && s.clientCount === 0).sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    const kept: Session[] = [];
    for (const s of removable) {
      if (now - (s.finishedAt ?? now) >= this.config.EXEC_RETENTION_SECONDS * 1000) {
        this.forget(s, 'age');
        removed++;
      } else kept.push(s);
    }
    let total = 0;
    for (const s of this.byId.values()) total += s.files.diskBytes;
    for (const s of kept) {
      if (total <= this.config.EXEC_RETENTION_BYTES) break;
      total -= s.files.diskBytes;
      this.forget(s, 'size');
      removed++;
    }
    return removed;
  }

  /**
   * Keeps the reserve (EXEC_DATA_RESERVE_BYTES) free on the data directory for running sessions: while
   * less is free, finished sessions' files are removed, oldest-finished first, also those a client is
   * reading (that client's call ends RESOURCE_EXHAUSTED saying why, never silently). Running sessions are
   * never removed: their output limit bounds them. Returns how many were removed.
   */
  keepReserve(freeBytes: number | undefined): number {
    if (freeBytes === undefined || this.drainReason) return 0;
    const reserve = this.budget.reserveBytes;
    let free = freeBytes + this.removingBytes; // folders being removed are as good as free
    if (free >= reserve) return 0;
    const finished = [...this.byId.values()].filter((s) => !s.running).sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    let removed = 0;
    for (const s of finished) {
      if (free >= reserve) break;
      free += s.files.diskBytes;
      if (s.clientCount) {
        s.disconnectClients(
          new ExecError(
            'exhausted',
            `session ${s.id}'s output was removed while this client read it: the data directory ${this.config.EXEC_DATA_DIR} (EXEC_DATA_DIR) ` +
              `had ${freeBytes} bytes free, less than the ${reserve} kept for running sessions (EXEC_DATA_RESERVE_BYTES); finished sessions go first`,
          ),
        );
      }
      this.forget(s, 'disk_pressure');
      removed++;
    }
    if (removed) this.log.warn({ freeBytes, reserveBytes: reserve, removed }, 'data directory short of its reserve: finished sessions removed');
    return removed;
  }

  /** Forgets a finished session and removes its folder in the background (a large one would otherwise block every stream). */
  private forget(s: Session, why: string): void {
    this.byId.delete(s.id);
    this.requestIds.remove(s);
    const bytes = s.files.diskBytes;
    this.removingBytes += bytes;
    // NOT_FOUND from now on; the folder leaves sessions/ at once and is deleted in the background.
    const removal: Promise<void> = s.files.destroyInBackground(removingDir(this.config.EXEC_DATA_DIR)).then((ok) => {
      this.removing.delete(removal);
      this.removingBytes -= bytes;
      if (!ok) s.logger.warn({ dir: s.files.dir }, 'session folder could not be removed (left on disk)');
    });
    this.removing.add(removal);
    const line =
      why === 'disk_pressure'
        ? 'session removed to keep the data directory reserve'
        : why === 'request'
          ? 'session removed on request (RemoveSession); files removed'
          : 'session retention expired; files removed';
    s.logger.info({ why }, line);
    this.metrics?.retentionRemoved(why);
  }

  /**
   * RemoveSession: forgets a finished session now, as retention would later; clients still reading it
   * are ended with NOT_FOUND. A running one is FAILED_PRECONDITION unless `force`: its process is then
   * killed (SIGKILL, Outcome killed_by_request) and the session forgotten once its end is recorded.
   */
  async remove(sessionId: string, force: boolean): Promise<{ killed: boolean }> {
    const session = this.get(sessionId);
    const resource = { type: 'session' as const, name: session.id };
    let killed = false;
    if (session.running) {
      if (!force) {
        throw new ExecError('precondition', `session ${session.id} is running: stop its process first, or remove it with force (which kills it)`, {
          reason: 'SESSION_RUNNING',
          resource,
        });
      }
      session.killReason ??= 'killed_by_request';
      const control = this.requireControl();
      await (session.execId ? control.signalExec(session.execId, 9) : control.kill(session.containerId, 9));
      await session.process?.done.catch(() => undefined);
      if (session.running) {
        throw new ExecError('unavailable', `session ${session.id} was sent SIGKILL but its end is not recorded yet; retry`, {
          reason: 'OUTCOME_LOST',
          resource,
        });
      }
      killed = true;
    }
    if (this.byId.get(session.id) !== session) return { killed }; // retention was quicker
    session.disconnectClients(new ExecError('not_found', `session ${session.id} was removed (RemoveSession)`, { reason: 'SESSION_NOT_FOUND', resource }));
    this.forget(session, 'request');
    return { killed };
  }
}

/**
 * Details of the errors the runtime raises without them when it refuses to start a process (a run's
 * image without a default command; an exec's container not managed here, or not running): the
 * session manager knows what was asked of it.
 */
function startFailure(spec: NewProcess): DetailByKind {
  if (spec.image) return { invalid: { reason: 'FIELD_INVALID', field: 'start.command' } };
  const resource = { type: 'container' as const, name: spec.containerId ?? '' };
  return { permission: { reason: 'CONTAINER_NOT_MANAGED', resource }, precondition: { reason: 'CONTAINER_NOT_RUNNING', resource } };
}

/** The one exec session of `matches` (all starting with the prefix `execId`); several → INVALID_ARGUMENT. */
function uniqueExec(matches: Session[], execId: string): Session | undefined {
  if (new Set(matches.map((s) => s.execId)).size > 1) {
    throw new ExecError('invalid', `exec id prefix ${quoted(execId)} is ambiguous: give more of the id`, {
      reason: 'ID_AMBIGUOUS',
      resource: { type: 'exec', name: execId },
    });
  }
  return matches[0];
}
