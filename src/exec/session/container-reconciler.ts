import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ExecConfig } from '../../common/config/exec-config';
import type { Logger } from '../../common/logger';
import { CONTAINER_EVENTS, CONTAINER_RECOVERY, CONTAINER_RUNTIME, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ContainerEventsSource, ContainerRecovery, ContainerRuntime, ManagedContainer } from '../../executor';
import { SessionManager } from './session-manager';

/**
 * Removes this instance's containers that nothing will read any more (when EXEC_REMOVE_CONTAINERS):
 * those whose session has ended, and stopped ones (created, exited) that no session owns, e.g. created
 * while Docker was shutting down. A running container no session owns is left alone (logged). Runs at
 * start-up (SessionRecovery calls it once sessions are loaded) and after every Docker events reconnect,
 * so a removal that failed while Docker was down is retried once Docker is back.
 */
@Injectable()
export class ContainerReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private unsubscribe?: () => void;
  private pass?: Promise<number>;
  private again = false;

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly sessions: SessionManager,
    @Optional() @Inject(CONTAINER_RECOVERY) private readonly recovery?: ContainerRecovery,
    @Optional() @Inject(CONTAINER_EVENTS) private readonly events?: ContainerEventsSource,
  ) {
    this.log = root.child({ component: 'reconciler' });
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.events?.onReconnected(() => void this.reconcile('Docker events reconnected'));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * One pass; resolves with the number of containers removed (a pass asked for while one runs is run
   * once more after it). `listed` saves the listing when the caller just made it. Never rejects.
   */
  reconcile(why: string, listed?: ManagedContainer[]): Promise<number> {
    if (this.pass) {
      this.again = true;
      return this.pass;
    }
    this.pass = this.once(why, listed)
      .catch((err) => {
        this.log.warn({ why, err: (err as Error).message }, 'could not reconcile containers; retried at the next events reconnect');
        return 0;
      })
      .finally(() => {
        this.pass = undefined;
        if (this.again) {
          this.again = false;
          void this.reconcile(`${why} (again)`);
        }
      });
    return this.pass;
  }

  private async once(why: string, listed?: ManagedContainer[]): Promise<number> {
    if (!this.config.EXEC_REMOVE_CONTAINERS || !this.recovery || this.sessions.draining) return 0;
    const containers = listed ?? (await this.recovery.listManaged());
    const sessions = new Map(this.sessions.all().map((s) => [s.id, s]));
    let removed = 0;
    for (const c of containers) {
      const session = sessions.get(c.sessionId);
      if (session?.running) continue;
      if (!session && c.running) {
        this.log.warn(
          { containerId: c.containerId.slice(0, 12), sessionId: c.sessionId },
          'running container of this instance owned by no session: left alone',
        );
        continue;
      }
      await this.runtime.remove(c.containerId);
      removed++;
      this.log.info(
        { containerId: c.containerId.slice(0, 12), sessionId: c.sessionId, why, owner: session ? 'ended session' : 'no session' },
        'removing a leftover container',
      );
    }
    return removed;
  }
}
