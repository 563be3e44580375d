import { isDeepStrictEqual } from 'node:util';

/** Where a ReloadedValue reads its bytes, makes its value, and reports a change it refused. */
export interface ReloadSource<R, T> {
  /** The files' bytes; throws an Error saying why they cannot be read. */
  read: () => R;
  /** The value the bytes make; throws an Error saying why they make none. */
  make: (bytes: R) => T;
  /** Told each problem once (again only after another problem, or a good change). */
  refused: (problem: string) => void;
  /** Bytes that made no value are tried again at every check (a certificate not valid yet becomes valid); else only once they change. */
  retryRefused?: boolean;
}

/**
 * The last good value made from files that may change: check() reads them again; bytes unchanged since
 * the last check do nothing, changed ones that make a value replace it, and a read or a value that
 * fails keeps the last good one and is reported.
 */
export class ReloadedValue<R, T> {
  private lastProblem?: string;

  constructor(
    public value: T,
    private seen: R,
    private readonly source: ReloadSource<R, T>,
  ) {}

  /** Reads the files again; true when a new value replaced the last good one. */
  check(): boolean {
    let bytes: R;
    let next: T;
    try {
      bytes = this.source.read();
    } catch (err) {
      return this.refuse((err as Error).message);
    }
    if (isDeepStrictEqual(bytes, this.seen)) return false;
    try {
      next = this.source.make(bytes);
    } catch (err) {
      if (!this.source.retryRefused) this.seen = bytes;
      return this.refuse((err as Error).message);
    }
    this.seen = bytes;
    this.value = next;
    this.lastProblem = undefined;
    return true;
  }

  private refuse(problem: string): false {
    if (problem !== this.lastProblem) this.source.refused(problem);
    this.lastProblem = problem;
    return false;
  }
}
