/** Ctrl-P then Ctrl-Q, docker's default detach sequence. */
export const DETACH_KEYS = Buffer.from([0x10, 0x11]);

/**
 * Watches typed bytes for the detach sequence. `feed` returns the bytes to forward (a partial match is
 * held back until the next chunk says whether it was the sequence) and whether the sequence was typed.
 */
export class DetachKeys {
  private matched = 0;

  constructor(private readonly keys: Buffer = DETACH_KEYS) {}

  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: what was held back goes through, then this byte is looked at afresh.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]);
      this.matched = 0;
      if (byte === this.keys[0]) this.matched = 1;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
