import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecConfig } from '../../common/config/exec-config';
import { HEALTH_PROBLEM, HealthState } from '../../common/health-state';
import type { Logger } from '../../common/logger';
import { EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import { DataDirError, dataDirError } from './data-dir-errors';
import { dataDirBudget, fileSystemSpace, type OutputBudget } from './output-budget';

/** How often the data directory is probed for writing. */
export const PROBE_INTERVAL_MS = 1000;
/**
 * What a probe writes, 64 KiB of zeros: a full disk refuses them even when an empty file can still be
 * made. One Buffer for every probe, so an idle service makes no garbage (one a second was 3.75 MiB a
 * minute of Buffers, kept until V8's next collection, which an idle service seldom has).
 */
const PROBE_ZEROS = Buffer.alloc(64 * 1024);
const PROBLEM = HEALTH_PROBLEM.dataDir;

/**
 * Whether EXEC_DATA_DIR can be written: health is NOT_SERVING from the first failed write there (a
 * session's output, a new session's files) or failed probe, until a probe (every PROBE_INTERVAL_MS)
 * writes there again. While it cannot, new sessions are refused with the failure's status and message.
 * Also how much room it has: the output budget, and the free space after each probe and failed write
 * (`onSpace`, which SessionManager uses to keep EXEC_DATA_RESERVE_BYTES free).
 */
@Injectable()
export class DataDirHealth implements OnModuleInit, OnModuleDestroy {
  private readonly log: Logger;
  private timer?: NodeJS.Timeout;
  private problem?: DataDirError;
  private readonly probeFile: string;
  private budgetRead?: OutputBudget;
  /** Told the data directory's free bytes (undefined: statfs failed) after each probe and each failed write. */
  onSpace?: (freeBytes: number | undefined) => void;

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly health: HealthState,
  ) {
    this.log = root.child({ component: 'data-dir' });
    this.probeFile = join(config.EXEC_DATA_DIR, `.write-probe-${process.pid}`);
  }

  onModuleInit(): void {
    this.probe();
    this.timer = setInterval(() => this.probe(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Each session's output limit and the reserve, from the settings and the data directory's file system (read once). */
  get budget(): OutputBudget {
    return (this.budgetRead ??= dataDirBudget(this.config));
  }

  /** The data directory's free bytes now, or undefined when they cannot be read. */
  freeBytes(): number | undefined {
    return fileSystemSpace(this.config.EXEC_DATA_DIR)?.freeBytes;
  }

  /** Throws the standing failure (same code and message) while the data directory cannot be written. */
  assertWritable(): void {
    if (this.problem) throw new DataDirError(this.problem.kind as 'exhausted' | 'unavailable', this.problem.message, this.problem.code, true);
  }

  /** A write under the data directory failed; only disk problems (not fd exhaustion) count. */
  failed(err: unknown): void {
    if (!(err instanceof DataDirError) || !err.diskProblem) return;
    this.problem = err;
    if (this.health.set(PROBLEM, err.message)) this.log.error({ err: err.message }, 'data directory cannot be written: health is NOT_SERVING');
    this.onSpace?.(this.freeBytes());
  }

  /** Writes and removes a small file in the data directory; returns whether that worked. */
  probe(): boolean {
    let fd: number | undefined;
    try {
      mkdirSync(this.config.EXEC_DATA_DIR, { recursive: true });
      fd = openSync(this.probeFile, 'w');
      for (let done = 0; done < PROBE_ZEROS.length;) done += writeSync(fd, PROBE_ZEROS, done);
    } catch (err) {
      this.failed(dataDirError(err, this.config.EXEC_DATA_DIR, 'a write probe'));
      return false;
    } finally {
      try {
        if (fd !== undefined) closeSync(fd);
        rmSync(this.probeFile, { force: true });
      } catch {
        /* the next probe tries again */
      }
    }
    if (this.problem) {
      this.problem = undefined;
      this.health.set(PROBLEM);
      this.log.info({ dataDir: this.config.EXEC_DATA_DIR }, 'data directory can be written again: health is SERVING');
    }
    this.onSpace?.(this.freeBytes());
    return true;
  }
}
