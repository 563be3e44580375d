/**
 * One memory budget for the in-memory output of all sessions (their tail windows and read-back
 * caches), so that memory stays bounded by configuration however many sessions run at once: each
 * session holding a share may keep min(EXEC_TAIL_BYTES, EXEC_TAIL_BUDGET_BYTES / sessions holding one)
 * bytes, never less than MIN_TAIL_SHARE (unless EXEC_TAIL_BYTES is smaller). Shares follow the count as sessions come and go (a window
 * shrinks at its next push). A session releases its share when it has finished and nobody reads it;
 * a later reader of it still gets a share's worth, counted as one more holder.
 */
export const MIN_TAIL_SHARE = 256 * 1024;

/** What a session's windows ask for their current limit. */
export interface TailShare {
  /** The bytes this session's tail (and, separately, its read-back cache) may hold now. */
  readonly limit: () => number;
  /** Stops counting this session among the holders (idempotent); `limit` goes on answering. */
  release(): void;
}

export class TailBudget {
  private holders = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly perSessionBytes: number,
  ) {}

  acquire(): TailShare {
    this.holders++;
    let held = true;
    return {
      limit: () => this.limitFor(held ? this.holders : this.holders + 1),
      release: () => {
        if (held) this.holders--;
        held = false;
      },
    };
  }

  private limitFor(holders: number): number {
    return Math.min(this.perSessionBytes, Math.max(MIN_TAIL_SHARE, Math.floor(this.totalBytes / Math.max(1, holders))));
  }
}

/** A budget of EXEC_TAIL_BUDGET_BYTES shared by the sessions, each taking at most EXEC_TAIL_BYTES (one per service: its context's). */
export function tailBudgetOf(config: { EXEC_TAIL_BYTES: number; EXEC_TAIL_BUDGET_BYTES: number }): TailBudget {
  return new TailBudget(config.EXEC_TAIL_BUDGET_BYTES, config.EXEC_TAIL_BYTES);
}
