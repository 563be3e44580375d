import type { OutputPiece, OutputStreamName } from '../exec-client';

/** A Unix-ns time as RFC 3339 with nine fraction digits, UTC (`docker logs -t`'s form). */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

/**
 * Prefixes each line of the output with the time of the chunk it begins in and a space, per stream (a
 * line that runs on into later chunks is prefixed once), as `docker logs -t` prefixes each log line.
 */
export class TimestampLines {
  private readonly atLineStart: Record<OutputStreamName, boolean> = { stdout: true, stderr: true };

  apply(piece: OutputPiece): Buffer {
    const stamp = Buffer.from(`${rfc3339Nano(piece.timestampNs ?? 0n)} `);
    const parts: Buffer[] = [];
    let from = 0;
    const data = piece.data;
    while (from < data.length) {
      if (this.atLineStart[piece.stream]) parts.push(stamp);
      const nl = data.indexOf(10, from);
      const end = nl < 0 ? data.length : nl + 1;
      parts.push(data.subarray(from, end));
      this.atLineStart[piece.stream] = nl >= 0;
      from = end;
    }
    return Buffer.concat(parts);
  }
}
