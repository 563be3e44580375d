import { Inject, Injectable } from '@nestjs/common';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { EXEC_CONFIG } from '../../common/tokens';

interface CopyInFlight {
  what: 'CopyTo' | 'CopyFrom';
  since: number;
}

/**
 * The copies running now, by container. Docker 20.10 holds a container's lock while an archive request
 * is open, and inspect, pause, kill, stats, exec and wait of that container wait for it; calls that would
 * wait so are refused at once instead (UNAVAILABLE, naming the copy and how long it may last).
 */
@Injectable()
export class CopiesInFlight {
  private readonly byContainer = new Map<string, Set<CopyInFlight>>();

  constructor(@Inject(EXEC_CONFIG) private readonly config: ExecConfig) {}

  /** Records a copy of the container `id` (a full id) until the returned function is called. */
  begin(id: string, what: CopyInFlight['what']): () => void {
    const copy = { what, since: Date.now() };
    let set = this.byContainer.get(id);
    if (!set) this.byContainer.set(id, (set = new Set()));
    set.add(copy);
    return () => {
      set.delete(copy);
      if (!set.size && this.byContainer.get(id) === set) this.byContainer.delete(id);
    };
  }

  /** UNAVAILABLE when a copy holds the container `idOrPrefix` names (its full id or a prefix of it), for `call`. */
  assertFree(idOrPrefix: string, call: string): void {
    for (const [id, copies] of this.byContainer) {
      if (!id.startsWith(idOrPrefix)) continue;
      const oldest = [...copies].sort((a, b) => a.since - b.since)[0];
      const seconds = Math.round((Date.now() - oldest.since) / 1000);
      throw new ExecError(
        'unavailable',
        `container ${id.slice(0, 12)} is busy: Docker holds its lock while a ${oldest.what} ${oldest.what === 'CopyTo' ? 'into' : 'out of'} it runs ` +
          `(for ${seconds} s so far), and would not answer ${call} before it ends; a copy ends within EXEC_COPY_MAX_MS (${this.config.EXEC_COPY_MAX_MS} ms), ` +
          `sooner when its client moves less than EXEC_COPY_MIN_BYTES_PER_SECOND: try again then`,
      );
    }
  }
}
