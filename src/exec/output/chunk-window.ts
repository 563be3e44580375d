import type { ChunkRecord } from './session-files';

/** What a chunk costs beyond its data (objects, encodings' headers): one-line chunks are mostly this. */
export const CHUNK_OVERHEAD = 256;
const cost = (c: ChunkRecord) => c.data.length + CHUNK_OVERHEAD;

/**
 * The newest chunks of a session, bounded by their bytes: a FIFO over consecutive sequence numbers
 * with O(1) lookup, push and eviction (a head index, compacted now and then, rather than
 * Array.shift, which copies the array: a session of one-line chunks has hundreds of thousands).
 */
export class ChunkWindow {
  private items: Array<ChunkRecord | undefined> = [];
  private head = 0;
  private bytes = 0;

  /** `limit`: the bytes it may hold now (a share of the TailBudget, asked at every push). */
  constructor(private readonly limit: () => number) {}

  /** Appends the next chunk; evicts the oldest while over the limit, always keeping the newest. */
  push(chunk: ChunkRecord): void {
    this.items.push(chunk);
    this.bytes += cost(chunk);
    const limit = this.limit();
    while (this.bytes > limit && this.items.length - this.head > 1) {
      this.bytes -= cost(this.items[this.head]!);
      this.items[this.head++] = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Chunk `sequence` when it is still in the window. */
  get(sequence: number): ChunkRecord | undefined {
    const oldest = this.items[this.head];
    if (!oldest || sequence < oldest.sequence) return undefined;
    return this.items[this.head + (sequence - oldest.sequence)];
  }
}

/**
 * Chunks recently read back from disk, shared by the clients that are behind: when many clients read
 * the same old output at about the same pace, each chunk is read (and encoded) once, not once per
 * client. Concurrent reads of one chunk share one read. Bounded by bytes; oldest read goes first.
 */
export class ReadCache {
  private readonly entries = new Map<number, ChunkRecord | Promise<ChunkRecord>>();
  private bytes = 0;

  /** `limit`: the bytes it may hold now (a share of the TailBudget, asked at every eviction). */
  constructor(private readonly limit: () => number) {}

  get(sequence: number, read: (sequence: number) => Promise<ChunkRecord>): ChunkRecord | Promise<ChunkRecord> {
    const hit = this.entries.get(sequence);
    if (hit) return hit;
    const pending = read(sequence).then(
      (chunk) => {
        if (this.entries.get(sequence) === pending) {
          this.entries.set(sequence, chunk);
          this.bytes += cost(chunk);
          this.evict();
        }
        return chunk;
      },
      (err) => {
        this.entries.delete(sequence);
        throw err;
      },
    );
    this.entries.set(sequence, pending);
    return pending;
  }

  private evict(): void {
    const limit = this.limit();
    for (const [sequence, entry] of this.entries) {
      if (this.bytes <= limit || this.entries.size <= 1) break;
      if (entry instanceof Promise) continue; // in flight: not counted yet
      this.entries.delete(sequence);
      this.bytes -= cost(entry);
    }
  }
}
