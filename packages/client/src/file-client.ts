import { Metadata, status, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import { TarFraming } from './tar-framing';
import { abortedError, cancelOnAbort, type CallOptions } from './call-options';
import { toExecError } from './exec-error';
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
 * consumer's pace. CallOptions (last): a deadline bounds the whole copy; the signal cancels it.
 * Failures are ExecErrors.
 */
export class FileClient {
  constructor(private readonly connection: GRPCConnectionManager) {}

  /** Unpacks the tar bytes of `tar` into the existing directory `path` (sent in messages of ≤ chunkBytes); resolves with the bytes the server received. */
  async copyTo(
    containerId: string,
    path: string,
    tar: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Readable,
    options: { chunkBytes?: number } = {},
    callOptions?: CallOptions,
  ): Promise<{ bytesReceived: number }> {
    const chunkBytes = options.chunkBytes ?? COPY_CHUNK_BYTES;
    const stop = new AbortController();
    const signal = callOptions?.signal;
    let call!: ClientWritableStream<CopyToRequest>;
    const answered = new Promise<CopyToResponse__Output>((resolve, reject) => {
      call = this.connection
        .getClient()
        .CopyTo(
          this.connection.metadataFor(callOptions),
          this.connection.grpcOptionsFor(callOptions),
          (err: ServiceError | null, value?: CopyToResponse__Output) => {
            stop.abort(); // the answer (or error) came: nothing more to send
            unbind();
            if (err) reject(signal?.aborted ? abortedError(signal) : toExecError(err));
            else resolve(value!);
          },
        );
    });
    const unbind = cancelOnAbort(signal, call);
    answered.catch(() => undefined);
    const send = async (m: CopyToRequest) => {
      if (!stop.signal.aborted && !call.write(m)) await waitForDrain(call, stop.signal);
    };
    // The source is read piece by piece, each read raced with the answer: a server that answers early
    // (an error, a stalled copy) ends the copy even while the source has nothing to give.
    const source = (Symbol.asyncIterator in tar ? tar[Symbol.asyncIterator]() : tar[Symbol.iterator]()) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
    const stopped = new Promise<'stopped'>((resolve) => stop.signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
    try {
      await send({ header: { container_id: containerId, path } });
      for (;;) {
        const next = await Promise.race([source.next(), stopped]);
        if (next === 'stopped' || next.done) break;
        const buf = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        for (let at = 0; at < buf.length && !stop.signal.aborted; at += chunkBytes) await send({ tar: buf.subarray(at, at + chunkBytes) });
      }
      if (stop.signal.aborted) void Promise.resolve(source.return?.()).catch(() => undefined);
      call.end();
    } catch (err) {
      call.cancel();
      throw err;
    }
    const r = await answered;
    return { bytesReceived: Number(r.bytes_received ?? 0) };
  }

  /**
   * `path` as a tar stream, with its stat; destroying the stream (or aborting the signal) cancels the
   * call. The archive's framing is checked as it arrives: a stream that ends without the whole archive
   * (an entry shorter than its header says, no end-of-archive blocks) fails with DATA_LOSS naming the
   * entry, even when the call ended OK.
   */
  async copyFrom(containerId: string, path: string, callOptions?: CallOptions): Promise<{ stat: PathStatInfo; tar: Readable }> {
    const call = this.connection
      .getClient()
      .CopyFrom({ container_id: containerId, path }, this.connection.metadataFor(callOptions), this.connection.grpcOptionsFor(callOptions));
    const signal = callOptions?.signal;
    const unbind = cancelOnAbort(signal, call);
    call.on('status', unbind);
    const failed = (err: unknown) => (signal?.aborted ? abortedError(signal) : toExecError(err));
    const it = call[Symbol.asyncIterator]() as AsyncIterator<CopyFromResponse__Output>;
    const first = await it.next().catch((err: unknown) => {
      throw failed(err);
    });
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
          const r = await it.next().catch((err: unknown) => {
            throw failed(err);
          });
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
