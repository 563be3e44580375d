import { ChunkWindow } from './chunk-window';
import { MIN_TAIL_SHARE, TailBudget, tailBudgetOf } from './tail-budget';

const MiB = 1024 * 1024;

describe('TailBudget', () => {
  it('gives each holder the budget divided among the holders, within EXEC_TAIL_BYTES and the floor', () => {
    const budget = new TailBudget(32 * MiB, 4 * MiB);
    const shares = Array.from({ length: 4 }, () => budget.acquire());
    expect(shares[0].limit()).toBe(4 * MiB); // 32/4 = 8 MiB, capped per session
    shares.push(...Array.from({ length: 12 }, () => budget.acquire()));
    expect(shares[0].limit()).toBe(2 * MiB); // 32/16
    shares.push(...Array.from({ length: 200 }, () => budget.acquire()));
    expect(shares[0].limit()).toBe(MIN_TAIL_SHARE);
    for (const s of shares.slice(1)) s.release();
    expect(shares[0].limit()).toBe(4 * MiB);
  });

  it('release is idempotent, and a released share still answers as one more holder', () => {
    const budget = new TailBudget(8 * MiB, 8 * MiB);
    const a = budget.acquire();
    const b = budget.acquire();
    b.release();
    b.release();
    expect(a.limit()).toBe(8 * MiB);
    expect(b.limit()).toBe(4 * MiB);
  });

  it('shrinks a window at its next push when more sessions take a share', () => {
    const budget = new TailBudget(2 * MiB, 2 * MiB);
    const window = new ChunkWindow(budget.acquire().limit);
    const chunk = (sequence: number) => ({ sequence, stream: 'stdout' as const, timestampNs: 0n, data: Buffer.alloc(64 * 1024) });
    for (let n = 1; n <= 30; n++) window.push(chunk(n));
    expect(window.get(1)).toBeDefined(); // 30 × 64 KiB fit in 2 MiB
    const others = Array.from({ length: 7 }, () => budget.acquire()); // 8 holders: 256 KiB each
    window.push(chunk(31));
    expect(window.get(27)).toBeUndefined();
    expect(window.get(31)).toBeDefined();
    expect(others).toHaveLength(7);
  });

  it("is made from the configuration's total and per-session bytes", () => {
    const budget = tailBudgetOf({ EXEC_TAIL_BYTES: MiB, EXEC_TAIL_BUDGET_BYTES: 4 * MiB });
    const shares = Array.from({ length: 8 }, () => budget.acquire());
    expect(shares.map((s) => s.limit())).toEqual(Array(8).fill(MiB / 2)); // 4 MiB over 8, under the 1 MiB each
  });
});
