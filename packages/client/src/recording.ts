import type { ServiceError } from '@grpc/grpc-js';
import { ExecClient, type AttachOptions, type OutputPiece } from './exec-client';
import type { SessionResizesResponse__Output } from './gen';
import type { GRPCConnectionManager } from './grpc-connection-manager';
import { heldOutput } from './held-output';

/** The terminal size of a recording when the session recorded none (Docker's default). */
export const DEFAULT_CAST_SIZE = { width: 80, height: 24 };

/** One recorded terminal size: when (Unix ns), the size, and the last chunk before it. */
export interface RecordedResize {
  timestampNs: bigint;
  width: number;
  height: number;
  afterSequence: number;
}

/**
 * Builds an asciicast v2 recording (https://docs.asciinema.org/manual/asciicast/v2/) from a session's
 * sequenced output and recorded sizes: a header line (the first size, the process's start), then
 * `[seconds, "o", text]` per chunk and `[seconds, "r", "WxH"]` per later size, each size placed after
 * the chunk it followed, times from the process's start and never going back. Output is decoded as
 * UTF-8 per stream (a character split between chunks is joined; bytes that are not UTF-8 become U+FFFD).
 */
export class AsciicastWriter {
  private readonly decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };
  private readonly pending: RecordedResize[];
  private lastSeconds = 0;
  private startNs: bigint;

  constructor(
    private readonly resizes: RecordedResize[],
    startedAtNs: bigint,
    private readonly title?: string,
  ) {
    this.startNs = startedAtNs;
    this.pending = resizes.slice(1);
  }

  /** The header line; without a known start, times count from `firstChunkNs`. */
  header(firstChunkNs?: bigint): string {
    const size = this.resizes[0] ?? DEFAULT_CAST_SIZE;
    this.startNs ||= firstChunkNs ?? 0n;
    const header: Record<string, unknown> = { version: 2, width: size.width, height: size.height, timestamp: Number(this.startNs / 1_000_000_000n) };
    if (this.title) header.title = this.title;
    return JSON.stringify(header);
  }

  /** The lines for one chunk: the sizes recorded before it, then its output. */
  chunk(piece: OutputPiece): string[] {
    const lines = this.resizesBefore(piece.sequence ?? 0);
    const text = this.decoders[piece.stream].decode(piece.data, { stream: true });
    if (text) lines.push(JSON.stringify([this.seconds(piece.timestampNs ?? this.startNs), 'o', text]));
    return lines;
  }

  /** The sizes recorded after the last chunk, and what the decoders still hold. */
  end(): string[] {
    const lines = this.resizesBefore(Infinity);
    for (const d of Object.values(this.decoders)) {
      const rest = d.decode();
      if (rest) lines.push(JSON.stringify([this.lastSeconds, 'o', rest]));
    }
    return lines;
  }

  private resizesBefore(sequence: number): string[] {
    const lines: string[] = [];
    while (this.pending.length && this.pending[0].afterSequence < sequence) {
      const r = this.pending.shift()!;
      lines.push(JSON.stringify([this.seconds(r.timestampNs), 'r', `${r.width}x${r.height}`]));
    }
    return lines;
  }

  private seconds(ns: bigint): number {
    const s = Math.max(0, Number(ns - this.startNs) / 1e9);
    this.lastSeconds = Math.max(this.lastSeconds, Math.round(s * 1e6) / 1e6);
    return this.lastSeconds;
  }
}

/** A session's recorded terminal sizes and its process's start (SessionResizes). */
export function sessionResizes(
  connection: GRPCConnectionManager,
  sessionId: string,
): Promise<{ resizes: RecordedResize[]; startedAtNs: bigint; tty: boolean }> {
  return new Promise((resolve, reject) =>
    connection
      .getClient()
      .SessionResizes({ session_id: sessionId }, connection.getMetadata(), (err: ServiceError | null, r?: SessionResizesResponse__Output) => {
        if (err) return reject(err);
        resolve({
          tty: !!r?.tty,
          startedAtNs: BigInt(String(r?.started_at ?? '0')),
          resizes: (r?.resizes ?? []).map((x) => ({
            timestampNs: BigInt(String(x.timestamp ?? '0')),
            width: Number(x.width ?? 0),
            height: Number(x.height ?? 0),
            afterSequence: Number(x.after_sequence ?? 0),
          })),
        });
      }),
  );
}

/**
 * A session as an asciicast v2 recording, line by line (header first): the output it holds now and its
 * recorded sizes. `target` is a session, or a container (its run session, else its newest exec).
 */
export async function* asciicast(connection: GRPCConnectionManager, target: Pick<AttachOptions, 'sessionId' | 'containerId'>): AsyncGenerator<string> {
  const session = new ExecClient(connection).attach({ ...target, sequenced: true });
  const output = heldOutput(session);
  let writer: AsciicastWriter | undefined;
  try {
    const { sessionId } = await session.ready;
    const { resizes, startedAtNs } = await sessionResizes(connection, sessionId);
    writer = new AsciicastWriter(resizes, startedAtNs, `exec-stream session ${sessionId}`);
    let headerSent = false;
    for await (const piece of output) {
      if (!headerSent) {
        headerSent = true;
        yield writer.header(piece.timestampNs);
      }
      yield* writer.chunk(piece);
    }
    if (!headerSent) yield writer.header();
    yield* writer.end();
  } finally {
    await output.return(undefined);
  }
}
