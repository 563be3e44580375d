import type { StreamName } from '../../common/streams';
import type { SessionReports } from '../../common/reporting';
import { Inject, Injectable, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { HEALTH_PROBLEM, HealthState } from '../../common/health-state';
import type { Logger } from '../../common/logger';
import { CONTAINER_RECOVERY, CONTAINER_RUNTIME, EXEC_CONFIG, EXEC_METRICS, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerRecovery, ContainerRuntime, ManagedContainer } from '../../executor';
import { TailBudget, TeeWriterFactory } from '../output';
import { type Session, type SessionInfo } from './session';
import { assembleSession } from './session-assembly';
import { removingDir, SessionFiles, sessionsDir } from '../output';
import { verifySessionData } from '../output';
import { SessionManager } from './session-manager';
import { buildOutcome, readOutcomeRecord, restoredError, sessionEndError, type KillReason } from './session-outcome';
import { readTimeoutSpec } from './session-timeouts';
import { ContainerReconciler } from './container-reconciler';
import { sleep } from '../../common/sleep';

/** What kill.json may hold (anything else is ignored). */
const KILL_REASONS: ReadonlySet<string> = new Set<KillReason>(['timeout', 'idle_timeout', 'killed_by_request', 'output_limit']);
/** Bytes of each stream's recorded end compared with Docker's log when re-adopting (LogSkipper). */
const TAIL_CHECK_BYTES = 4096;
/** How long a run that lost Docker mid-way waits for Docker to answer again before ending UNAVAILABLE. */
export const DOCKER_RETURN_GRACE_MS = 5 * 60_000;

/**
 * Restart recovery, session side (docs/DURABILITY.md). Before the server listens, every folder in
 * EXEC_DATA_DIR/sessions is loaded and registered: finished ones (exit.json) are readable as before;
 * unfinished ones are re-adopted through CONTAINER_RECOVERY: a run's container, and an exec in a container
 * that records its output (the output record fills in what was produced while the service was down,
 * then live output and the true exit code); an exec in a container without one ends ABORTED.
 * Damaged files are detected (index check at load, data checksums in the background and on every
 * read): their chunks are never served; readers are told the gap.
 *
 * The same re-adoption serves a run whose connection to Docker broke while the service ran (dockerd
 * killed or restarted): once Docker answers again the session ends with Docker's outcome for its
 * container (or the error why it cannot be known), never with a made-up one.
 */
@Injectable()
export class SessionRecovery implements OnApplicationBootstrap {
  private readonly log: Logger;
  /** Settles when every unfinished session has been re-adopted or ended (tests and measurements). */
  ready: Promise<void> = Promise.resolve();

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly sessions: SessionManager,
    private readonly tees: TeeWriterFactory,
    private readonly reconciler: ContainerReconciler,
    private readonly health: HealthState,
    private readonly tailBudget: TailBudget,
    @Optional() @Inject(CONTAINER_RECOVERY) private readonly recovery?: ContainerRecovery,
    @Optional() @Inject(EXEC_METRICS) private readonly metrics?: SessionReports | null,
  ) {
    this.log = root.child({ component: 'recovery' });
    sessions.onDockerLost = (session, error) => this.afterDockerLost(session, error);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.emptyRemoving();
    const root = sessionsDir(this.config.EXEC_DATA_DIR);
    if (!existsSync(root)) return;
    // NOT_SERVING until every unfinished session is re-adopted or ended (loading happens before listening).
    this.health.set(HEALTH_PROBLEM.recovering, 'loading and re-adopting sessions');
    const t0 = Date.now();
    const loaded: Session[] = [];
    for (const id of readdirSync(root)) {
      const dir = join(root, id);
      if (!statSync(dir).isDirectory()) continue;
      try {
        loaded.push(this.load(id, dir));
      } catch (err) {
        // Without a readable meta.json / index we cannot say what the folder is: leave it for a person.
        this.log.error({ sessionId: id, err: (err as Error).message }, 'session folder unreadable: not loaded (left on disk)');
      }
    }
    const unfinished = loaded.filter((s) => s.running);
    let containers: ManagedContainer[] | undefined;
    try {
      containers = this.recovery ? await this.recovery.listManaged() : undefined;
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'could not list managed containers: unfinished sessions cannot be re-adopted');
    }
    this.metrics?.recovered('loaded', loaded.length);
    const resumed = (s: Session) =>
      this.resume(s, containers).then(
        () => this.metrics?.recovered('readopted'),
        (err) => {
          this.metrics?.recovered('aborted');
          this.end(s, err);
        },
      );
    this.ready = Promise.all(unfinished.map(resumed)).then(() => {
      this.log.info({ sessions: unfinished.length, ms: Date.now() - t0 }, 'unfinished sessions re-adopted or ended');
      this.health.set(HEALTH_PROBLEM.recovering);
    });
    // Containers of ended sessions and orphans: now, and again for the sessions re-adoption could not save.
    if (containers) void this.reconciler.reconcile('start', containers);
    void this.ready.then(() => this.reconciler.reconcile('after re-adoption'));
    this.log.info({ sessions: loaded.length, unfinished: unfinished.length, ms: Date.now() - t0 }, 'sessions loaded from data dir');
  }

  /** Folders of sessions forgotten before a crash: never loaded, deleted in the background. */
  private emptyRemoving(): void {
    const trash = removingDir(this.config.EXEC_DATA_DIR);
    if (!existsSync(trash)) return;
    for (const name of readdirSync(trash)) {
      void rm(join(trash, name), { recursive: true, force: true }).catch((err: Error) =>
        this.log.warn({ dir: join(trash, name), err: err.message }, 'forgotten session folder could not be removed'),
      );
    }
  }

  private load(id: string, dir: string): Session {
    const logger = this.log.child({ sessionId: id });
    const { files, report } = SessionFiles.open(dir);
    let meta;
    try {
      meta = files.readMeta();
    } catch (err) {
      files.close();
      throw new Error(`meta.json: ${(err as Error).message}`, { cause: err });
    }
    if (report.problems.length) {
      logger.error(
        { problems: report.problems.slice(0, 20), missingChunks: report.missing.length },
        'session files are damaged: those chunks are never served, readers are told the gap',
      );
    }
    const info: SessionInfo = {
      id,
      kind: meta.kind,
      image: meta.image,
      command: meta.command ?? [],
      tty: meta.tty ?? false,
      createdAt: meta.createdAt,
      labels: meta.labels,
      requestId: meta.requestId,
      requestFingerprint: meta.requestFingerprint,
      timeouts: readTimeoutSpec(meta.timeouts, this.config.EXEC_KILL_GRACE_MS),
      outputLimitBytes: meta.outputLimitBytes || undefined,
    };
    const session = assembleSession(info, files, this.tailBudget, this.tees, logger, this.sessions.audit);
    const proc = readJson(() => files.readProcess(), logger, 'process.json');
    session.containerId = proc?.containerId ?? meta.containerId ?? '';
    session.execId = proc?.execId;
    session.startedAt = proc?.startedAt;
    let exit;
    try {
      exit = files.readExit();
    } catch (err) {
      exit = {
        error: { kind: 'data_loss', message: `the exit record is damaged (${(err as Error).message}): the outcome is unknown` },
        finishedAt: statSync(dir).mtimeMs,
      };
      logger.error({ err: (err as Error).message }, 'exit.json damaged');
    }
    if (!exit) {
      // Why the service was ending the process when it went down: the Outcome still says so.
      const reason = readJson(() => files.readKillReason(), logger, 'kill.json');
      if (reason && KILL_REASONS.has(reason)) session.restoreKillReason(reason as KillReason);
    }
    if (exit) {
      if (report.tornBytes || report.unindexedBytes) files.addLostTail();
      session.outcome = exit.error
        ? { error: restoredError(exit.error, session.id) }
        : typeof exit.exitCode === 'number'
          ? { exitCode: exit.exitCode }
          : { error: sessionEndError(new ExecError('data_loss', 'the exit record holds no exit code: the outcome is unknown'), session.id) };
      session.finishedAt = exit.finishedAt;
      // The Outcome as it was sent; an exit.json written before Outcome existed gets one built from what it holds.
      session.outcome.record =
        readOutcomeRecord(exit.outcome) ??
        buildOutcome({ outcome: session.outcome, startedAt: session.startedAt, finishedAt: exit.finishedAt, bytes: files.bytes });
      session.output.finish();
    }
    this.sessions.register(session);
    void verifySessionData(files, report.entries).then(
      (bad) => {
        if (bad.length) logger.error({ chunks: bad.slice(0, 20), count: bad.length }, 'chunk data failed its checksum: never served, reported as gaps');
      },
      (err: Error) => logger.warn({ err: err.message }, 'the background check of chunk data stopped (reads still check every chunk)'),
    );
    return session;
  }

  private async resume(session: Session, containers: ManagedContainer[] | undefined): Promise<void> {
    const last = session.output.lastSequence;
    const exec = session.info.kind === 'exec';
    if (exec && !session.execId) throw new ExecError('aborted', `exec-stream restarted before this exec started; output after chunk ${last} is unknown`);
    if (!containers)
      throw new ExecError(
        'unavailable',
        `Docker could not be asked for the container of this session at start-up; output after chunk ${last} and the exit code are unknown`,
      );
    // A run's container carries the session's id; an exec's is the run's container it was started in.
    const found = exec
      ? containers.find((c) => !!session.containerId && c.containerId === session.containerId)
      : (containers.find((c) => c.sessionId === session.id) ?? containers.find((c) => !!session.containerId && c.containerId === session.containerId));
    if (!found || !this.recovery) {
      throw new ExecError('aborted', `the container of this session no longer exists; output after chunk ${last} and the exit code are unknown`);
    }
    const recorded = session.files.bytes;
    const recordedTail: Record<StreamName, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    for (const stream of ['stdout', 'stderr'] as StreamName[]) {
      const n = Math.min(TAIL_CHECK_BYTES, recorded[stream]);
      recordedTail[stream] = await session.files.readStream(stream, recorded[stream] - n, n);
    }
    const startedAt = session.startedAt;
    const readRecorded = (stream: StreamName, position: number, length: number) => session.files.readStream(stream, position, length);
    const spec = { containerId: found.containerId, recorded, recordedTail, readRecorded };
    const started = exec
      ? await this.recovery.readoptExec({ ...spec, execId: session.execId!, sessionId: session.id }, session.tee)
      : await this.recovery.readopt(spec, session.tee);
    session.bind(started);
    session.startedAt = startedAt ?? session.startedAt;
    session.logger.info({ containerId: found.containerId.slice(0, 12), chunks: last, recorded }, 'session re-adopted');
    // Its output limit holds as before (a process it ended before the restart is ended again).
    this.sessions.armOutputLimit(session);
    // The hard timeout still counts from the process's start (already past: SIGTERM now); the idle one from now.
    const timeouts = session.info.timeouts;
    if (timeouts) {
      this.sessions.armTimeouts(session, timeouts, session.startedAt);
      const left = timeouts.timeoutMs ? Math.max(0, (session.startedAt ?? Date.now()) + timeouts.timeoutMs - Date.now()) : undefined;
      session.logger.info({ ...timeouts, hardTimeoutLeftMs: left, killReason: session.killReason }, 'timeouts re-armed');
    }
    started.done
      .then(
        (outcome) => session.finish(outcome),
        (err) => this.end(session, err),
      )
      .finally(() => {
        // A run's container goes with its session; an exec's belongs to its run.
        if (!exec && this.config.EXEC_REMOVE_CONTAINERS && !this.sessions.draining && session.outcome) void this.runtime.remove(found.containerId);
      });
  }

  private end(session: Session, err: unknown): void {
    const error = err instanceof ExecError ? (err as ExecError) : new ExecError('unavailable', String((err as Error)?.message ?? err));
    session.logger.error({ err: error.message }, 'session could not be recovered exactly: it ends with an error');
    session.finish({ error });
  }

  /**
   * A run whose process lost Docker ('unavailable': dockerd killed or restarted) is re-adopted once
   * Docker answers again, as after a restart; if Docker stays away DOCKER_RETURN_GRACE_MS, the session
   * ends with `error`. While draining, nothing is done: the sealed session is re-adopted at the next start.
   */
  private afterDockerLost(session: Session, error: ExecError): boolean {
    if (session.info.kind !== 'run' || error.kind !== 'unavailable' || !this.recovery) return false;
    session.logger.warn({ err: error.message }, 'lost Docker while the container ran: its outcome is taken from Docker once it answers again');
    session.input?.dispose();
    session.input = undefined; // the attach stream carrying stdin is gone
    void this.readoptWhenBack(session, error).catch((err) => this.end(session, err));
    return true;
  }

  private async readoptWhenBack(session: Session, lost: ExecError): Promise<void> {
    const deadline = Date.now() + DOCKER_RETURN_GRACE_MS;
    for (let waitMs = 100; ; waitMs = Math.min(2000, waitMs * 2)) {
      if (this.sessions.draining) return;
      try {
        await this.runtime.ping();
        break;
      } catch {
        if (Date.now() >= deadline) {
          throw new ExecError('unavailable', `${lost.message}; Docker did not answer again within ${DOCKER_RETURN_GRACE_MS / 1000} s`);
        }
      }
      await sleep(waitMs);
    }
    if (this.sessions.draining) return;
    await this.resume(session, await this.recovery!.listManaged());
  }
}

function readJson<T>(read: () => T, logger: Logger, what: string): T | undefined {
  try {
    return read();
  } catch (err) {
    logger.error({ err: (err as Error).message }, `${what} damaged: ignored`);
    return undefined;
  }
}
