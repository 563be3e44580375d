import { Metadata, status, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import { TarFraming } from './tar-framing';
import type { CopyFromResponse__Output, CopyToRequest, CopyToResponse__Output } from './gen';
import type { GRPCConnectionManager } from './grpc-connection-manager';
import { waitForDrain } from './wait-for-drain';

/** The stat of CopyFrom's path: size in bytes, mode as Go's os.FileMode bits, mtime in Unix ns. */
export interface PathStatInfo {
  name: string;
  size: number;
  mode: number;
  mtimeNs: bigint;
  linkTarget: string;
}

/** The most tar bytes per CopyTo message by default: small messages keep the server's memory low (docs/BENCHMARKS.md). */
export const COPY_CHUNK_BYTES = 16 * 1024;

/**
 * CopyTo and CopyFrom: tar streams into and out of a managed container. Both honour gRPC flow control:
 * copyTo reads its source only as fast as the server takes it, copyFrom's stream is read at the
 * consumer's pace.
 */
export class FileClient {
  constructor(private readonly connection: GRPCConnectionManager) {}

  /** Unpacks the tar bytes of `tar` into the existing directory `path` (sent in messages of ≤ chunkBytes); resolves with the bytes the server received. */
  async copyTo(
    containerId: string,
    path: string,
    tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable,
    options: { chunkBytes?: number } = {},
  ): Promise<{ bytesReceived: number }> {
    const chunkBytes = options.chunkBytes ?? COPY_CHUNK_BYTES;
    const stop = new AbortController();
    let call!: ClientWritableStream<CopyToRequest>;
    const answered = new Promise<CopyToResponse__Output>((resolve, reject) => {
      call = this.connection.getClient().CopyTo(this.connection.getMetadata(), (err: ServiceError | null, value?: CopyToResponse__Output) => {
        stop.abort(); // the answer (or error) came: nothing more to send
        if (err) reject(err);
        else resolve(value!);
      });
    });
    answered.catch(() => undefined);
    const send = async (m: CopyToRequest) => {
      if (!stop.signal.aborted && !call.write(m)) await waitForDrain(call, stop.signal);
    };
    try {
      await send({ header: { container_id: containerId, path } });
      for await (const piece of tar) {
        if (stop.signal.aborted) break;
        const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
        for (let at = 0; at < buf.length && !stop.signal.aborted; at += chunkBytes) await send({ tar: buf.subarray(at, at + chunkBytes) });
      }
      call.end();
    } catch (err) {
      call.cancel();
      throw err;
    }
    const r = await answered;
    return { bytesReceived: Number(r.bytes_received ?? 0) };
  }

  /**
   * `path` as a tar stream, with its stat; destroying the stream cancels the call. The archive's framing
   * is checked as it arrives: a stream that ends without the whole archive (an entry shorter than its
   * header says, no end-of-archive blocks) fails with DATA_LOSS naming the entry, even when the call ended OK.
   */
  async copyFrom(containerId: string, path: string): Promise<{ stat: PathStatInfo; tar: Readable }> {
    const call = this.connection.getClient().CopyFrom({ container_id: containerId, path }, this.connection.getMetadata());
    const it = call[Symbol.asyncIterator]() as AsyncIterator<CopyFromResponse__Output>;
    const first = await it.next();
    if (first.done || !first.value.stat) {
      call.cancel();
      throw new Error('CopyFrom: the server sent no stat first');
    }
    const s = first.value.stat;
    let ended = false;
    const framing = new TarFraming();
    const tar = Readable.from(
      (async function* () {
        for (;;) {
          const r = await it.next();
          if (r.done) break;
          if (!r.value.tar?.length) continue;
          try {
            framing.push(r.value.tar);
          } catch (err) {
            throw dataLoss(`CopyFrom of ${path}: the server sent bytes that are not a tar archive: ${(err as Error).message}`);
          }
          yield r.value.tar;
        }
        ended = true;
        const problem = framing.problemAtEnd();
        if (problem) throw dataLoss(`CopyFrom of ${path} ended OK but its archive is incomplete: ${problem}`);
      })(),
      { objectMode: false },
    );
    tar.once('close', () => {
      if (!ended) call.cancel();
    });
    return {
      stat: {
        name: String(s.name ?? ''),
        size: Number(s.size ?? 0),
        mode: Number(s.mode ?? 0),
        mtimeNs: BigInt(String(s.mtime ?? '0')),
        linkTarget: String(s.link_target ?? ''),
      },
      tar,
    };
  }
}

/** A failure found by the client itself, shaped as a gRPC error (code, details) like the server's. */
function dataLoss(details: string): ServiceError {
  return Object.assign(new Error(`${status.DATA_LOSS} DATA_LOSS: ${details}`), { code: status.DATA_LOSS, details, metadata: new Metadata() });
}
