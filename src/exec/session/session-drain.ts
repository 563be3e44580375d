import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import { SessionManager } from './session-manager';

/** Time given to grpc-js to send the UNAVAILABLE statuses before the server is shut down. */
const STATUS_FLUSH_MS = 250;

export const DRAIN_MESSAGE =
  'exec-stream is shutting down; running processes go on and are re-adopted when it is back: ' +
  'reconnect with session_id and replay_from_sequence = last sequence seen + 1';

/**
 * SIGTERM / SIGINT (main.ts enables Nest's shutdown hooks): refuse new sessions and clients, tell every
 * attached client (status UNAVAILABLE, DRAIN_MESSAGE), flush and seal the files of running sessions
 * and leave their containers running, so that the next start re-adopts them (session-recovery.ts).
 * Nest runs this before it closes the gRPC server; afterwards it re-raises the signal, and the
 * process exits even though Docker sockets are still open.
 *
 * A programmatic close without a signal (tests that close an in-process server) refuses and
 * disconnects the same way but does not seal: those sessions record until their process ends.
 */
@Injectable()
export class SessionDrain implements BeforeApplicationShutdown {
  private readonly log: Logger;

  constructor(
    private readonly sessions: SessionManager,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'drain' });
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.sessions.beginDrain(DRAIN_MESSAGE);
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
    const err = new ExecError('unavailable', DRAIN_MESSAGE);
    for (const s of all) {
      clients += s.clientCount;
      s.disconnectClients(err);
    }
    this.log.info(
      { signal, running: running.length, clients, sealed: !!signal },
      'draining: new sessions refused, clients told, running containers left for re-adoption',
    );
    if (clients) await new Promise((r) => setTimeout(r, STATUS_FLUSH_MS));
  }
}
