import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { ExecError } from '../../common/errors';
import { HEALTH_PROBLEM, HealthState } from '../../common/health-state';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import { SessionManager } from './session-manager';
import { sleep } from '../../common/sleep';

/** Time given to grpc-js to send the UNAVAILABLE statuses before the server is shut down. */
export const STATUS_FLUSH_MS = 250;
/** The longest a drain waits for Starts in flight to be set up (a pull of a large image may not finish). */
const START_WAIT_MS = 10_000;

export const DRAIN_MESSAGE =
  'exec-stream is shutting down; running processes go on and are re-adopted when it is back: ' +
  'reconnect with session_id and replay_from_sequence = last sequence seen + 1';

/**
 * SIGTERM / SIGINT (main.ts enables Nest's shutdown hooks): refuse new sessions and clients, let Starts
 * in flight finish setting up (at most START_WAIT_MS), tell every attached client (status UNAVAILABLE,
 * DRAIN_MESSAGE, after its Ready), flush and seal the files of running sessions
 * and leave their containers running, so that the next start re-adopts them (session-recovery.ts).
 * Nest runs this before it closes the gRPC server; afterwards it re-raises the signal, and the
 * process exits even though Docker sockets are still open.
 *
 * A programmatic close without a signal (tests that close an in-process server) refuses and
 * disconnects the same way but does not seal: those sessions record until their process ends.
 *
 * Health is NOT_SERVING (HEALTH_PROBLEM.draining) from the first shutdown hook (onModuleDestroy) on;
 * on a signal the drain then gives grpc-js STATUS_FLUSH_MS to deliver that to health Watch streams.
 */
@Injectable()
export class SessionDrain implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly log: Logger;

  constructor(
    private readonly sessions: SessionManager,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly health: HealthState,
  ) {
    this.log = root.child({ component: 'drain' });
  }

  onModuleDestroy(): void {
    this.health.set(HEALTH_PROBLEM.draining, 'draining: shutting down');
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.onModuleDestroy(); // in case the destroy hooks were skipped
    this.sessions.beginDrain(DRAIN_MESSAGE);
    // A Start in flight completes (its client gets Ready, then UNAVAILABLE below) rather than being cut
    // while its container may start with nobody told of it.
    await this.sessions.startsSettled(START_WAIT_MS);
    const all = this.sessions.all();
    const running = all.filter((s) => s.running);
    if (signal) {
      for (const s of running) {
        try {
          s.files.seal();
        } catch (err) {
          s.logger.error({ err: (err as Error).message }, 'could not flush session files');
        }
      }
    }
    let clients = 0;
    const err = new ExecError('unavailable', DRAIN_MESSAGE, { reason: 'SHUTTING_DOWN' });
    for (const s of all) {
      clients += s.clientCount;
      s.disconnectClients(err);
    }
    this.log.info(
      { signal, running: running.length, clients, sealed: !!signal },
      'draining: new sessions refused, clients told, running containers left for re-adoption',
    );
    if (clients || signal) await sleep(STATUS_FLUSH_MS);
  }
}
