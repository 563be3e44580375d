import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ExecConfig } from '../common/config/exec-config';
import { ExecError } from '../common/errors';
import type { Logger } from '../common/logger';
import { CONTAINER_RUNTIME, EXEC_CONFIG, ROOT_LOGGER } from '../common/tokens';
import type { ContainerRuntime, StartedProcess } from '../executor/container-runtime';
import { TeeWriterFactory } from '../executor/tee-writer';
import { OutputLog } from './output-log';
import { Session, type SessionInfo } from './session';
import { SessionFiles } from './session-files';

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
}

/**
 * The singleton registry of sessions, by session id and by container id. Starts runs and execs,
 * enforces the limits, and forgets finished sessions once their retention has passed (never one with
 * a client still attached).
 */
@Injectable()
export class SessionManager implements OnModuleDestroy {
  private readonly byId = new Map<string, Session>();
  private readonly log: Logger;
  private readonly sweeper: NodeJS.Timeout;
  /** Set on shutdown: no new sessions or clients; running containers are left for re-adoption. */
  private drainReason?: string;

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly tees: TeeWriterFactory,
  ) {
    this.log = root.child({ component: 'sessions' });
    this.sweeper = setInterval(() => this.sweep(), Math.min(10_000, config.EXEC_RETENTION_SECONDS * 250));
    this.sweeper.unref();
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
    if (this.drainReason) throw new ExecError('unavailable', this.drainReason);
    if (this.runningCount >= this.config.EXEC_MAX_SESSIONS) {
      throw new ExecError('exhausted', `too many running sessions (EXEC_MAX_SESSIONS=${this.config.EXEC_MAX_SESSIONS})`);
    }
    const info: SessionInfo = {
      id: randomUUID(),
      kind: spec.image ? 'run' : 'exec',
      image: spec.image,
      command: spec.command,
      tty: spec.tty,
      createdAt: Date.now(),
    };
    const logger = this.log.child({ sessionId: info.id });
    const files = SessionFiles.create(join(this.config.EXEC_DATA_DIR, 'sessions', info.id), { version: 1, ...info, containerId: spec.containerId });
    const log = new OutputLog(files, this.config.EXEC_TAIL_BYTES);
    const tee = this.tees.create(log, logger);
    tee.addListener({ onRecorded: () => log.notify() });
    const session = new Session(info, files, log, tee, logger);
    this.byId.set(info.id, session); // counted against the limit while Docker is asked
    let process: StartedProcess;
    try {
      const base = { sessionId: info.id, command: spec.command, env: spec.env, workingDir: spec.workingDir, tty: spec.tty, openStdin: spec.openStdin || spec.tty };
      process = spec.image
        ? await this.runtime.run({ ...base, image: spec.image }, tee)
        : await this.runtime.exec({ ...base, containerId: spec.containerId! }, tee);
    } catch (err) {
      this.byId.delete(info.id);
      files.destroy();
      throw err;
    }
    session.bind(process, spec.clientId);
    // Observed at once, before any other await: its failure must never be an unhandled rejection.
    process.done.then(
      (outcome) => session.finish(outcome),
      (err) => session.finish({ error: err instanceof ExecError ? err : new ExecError('unavailable', String(err)) }),
    ).finally(() => {
      // Not while draining: the process "ended" only for us (files sealed); it runs on, to be re-adopted.
      if (info.kind === 'run' && this.config.removeContainers && !this.drainReason) void this.runtime.remove(session.containerId);
    });
    try {
      // Which container (and exec) this is: restart recovery needs it to find the process again.
      files.writeProcess({ containerId: process.containerId, execId: process.execId, startedAt: session.startedAt ?? Date.now() });
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'could not write process.json: this session cannot be re-adopted after a restart');
    }
    await session.input?.applyInitial();
    return session;
  }

  get(sessionId: string): Session {
    const s = this.byId.get(sessionId);
    if (!s) throw new ExecError('not_found', `session ${sessionId} not found (unknown, or its retention expired)`);
    return s;
  }

  /**
   * The session for a container: with execId, that exec; without, the container's run session, else
   * its newest exec. Accepts a full id or a unique prefix, as docker does.
   */
  findByContainer(containerId: string, execId?: string): Session {
    const matches = [...this.byId.values()].filter((s) => s.containerId && s.containerId.startsWith(containerId));
    const ids = new Set(matches.map((s) => s.containerId));
    if (ids.size > 1) throw new ExecError('invalid', `container id prefix ${containerId} is ambiguous`);
    const found = execId
      ? matches.find((s) => s.execId === execId || (!!s.execId && s.execId.startsWith(execId)))
      : (matches.find((s) => s.info.kind === 'run') ?? matches.sort((a, b) => b.info.createdAt - a.info.createdAt)[0]);
    if (!found) {
      throw new ExecError('not_found', `no session for container ${containerId}${execId ? ` exec ${execId}` : ''}`);
    }
    return found;
  }

  /** Checks the per-session client limit before a client attaches. */
  admitClient(session: Session): void {
    if (this.drainReason) throw new ExecError('unavailable', this.drainReason);
    if (session.clientCount >= this.config.EXEC_MAX_CLIENTS_PER_SESSION) {
      throw new ExecError(
        'exhausted',
        `session ${session.id} has ${session.clientCount} clients (EXEC_MAX_CLIENTS_PER_SESSION=${this.config.EXEC_MAX_CLIENTS_PER_SESSION})`,
      );
    }
  }

  all(): Session[] {
    return [...this.byId.values()];
  }

  /** Adds a session that was not started here: one loaded from the data dir after a restart. */
  register(session: Session): void {
    if (this.byId.has(session.id)) throw new ExecError('internal', `session ${session.id} is registered twice`);
    this.byId.set(session.id, session);
  }

  /** Refuses new sessions and clients from now on (shutdown); `reason` is what callers are told. */
  beginDrain(reason: string): void {
    this.drainReason = reason;
    clearInterval(this.sweeper);
  }

  get draining(): boolean {
    return !!this.drainReason;
  }

  /**
   * Forgets finished sessions that no client is reading and deletes their files: those past
   * EXEC_RETENTION_SECONDS, then, while all sessions' files exceed EXEC_RETENTION_BYTES, the
   * oldest-finished first. Running sessions count toward the size but are never removed.
   */
  sweep(now = Date.now()): number {
    let removed = 0;
    const remove = (s: Session, why: string) => {
      this.byId.delete(s.id);
      s.files.destroy();
      s.logger.info({ why }, 'session retention expired; files removed');
      removed++;
    };
    const removable = [...this.byId.values()]
      .filter((s) => !s.running && s.clientCount === 0)
      .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    const kept: Session[] = [];
    for (const s of removable) {
      if (now - (s.finishedAt ?? now) >= this.config.EXEC_RETENTION_SECONDS * 1000) remove(s, 'age');
      else kept.push(s);
    }
    let total = 0;
    for (const s of this.byId.values()) total += s.files.diskBytes;
    for (const s of kept) {
      if (total <= this.config.EXEC_RETENTION_BYTES) break;
      total -= s.files.diskBytes;
      remove(s, 'size');
    }
    return removed;
  }
}
