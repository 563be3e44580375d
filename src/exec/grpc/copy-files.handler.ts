import { statusName } from '../../common/log-levels';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { Observable } from 'rxjs';
import { ExecError, toGrpcStatus } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { ExecConfig } from '../../common/config/exec-config';
import { EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import { waitForDrain, type CopyFromRequest__Output, type CopyFromResponse, type CopyToRequest__Output, type CopyToResponse } from '@exec-stream/client/wire';
import { ContainerFilesService } from '../container';
import { RoutedCalls, type ForwardedCall } from '../cluster';
import { FramedMessagePool, framedBytesMessage } from '../../common/grpc-frames';
import { noteShortLivedBytes } from '../../common/young-collections';
import { boundCallContext, callContextOf } from './call-context';
import { noteContainer } from './call-audit';
import { SessionManager } from '../session';
import type { ServerStreamCall } from './server-stream-call';

/** Tar bytes held between the incoming CopyTo messages and Docker's request before the call is paused. */
export const COPY_TO_BUFFER_BYTES = 1 << 20;

/**
 * The most tar bytes per CopyFrom message. Full-size messages are pooled per call (reused once written),
 * and Docker's socket reads are freed by young collections (src/common/young-collections.ts): a 1 GiB copy
 * grows the server's RSS by ~15 MiB (docs/BENCHMARKS.md, "Files in and out").
 */
export const COPY_FROM_MESSAGE_BYTES = 16 * 1024;

/** CopyFrom messages kept for reuse per call: what grpc-js queues before write() says false (16), and as many in HTTP/2. */
const COPY_FROM_POOLED_MESSAGES = 32;

/** What the CopyTo handler needs of the raw grpc-js client-streaming call. */
export interface CopyToCallStream {
  on(event: 'data', fn: (msg: CopyToRequest__Output) => void): unknown;
  on(event: 'end' | 'cancelled' | 'error' | 'close', fn: () => void): unknown;
  removeListener(event: string, fn: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  cancelled?: boolean;
  metadata?: Metadata;
}

export type CopyToCallback = (err: Partial<ServiceError> | null, value?: CopyToResponse) => void;

/** What the CopyFrom handler needs of the raw grpc-js server-writable call (a Buffer: an encoded message, passPreEncoded). */
export type CopyFromCallStream = ServerStreamCall<CopyFromResponse | Buffer>;

/** CopyFromResponse{tar = 1: piece}, encoded by hand with its gRPC frame: grpc-js writes it without another copy. */
function tarMessage(piece: Buffer): Buffer {
  const message = framedBytesMessage(1, piece.length);
  piece.copy(message, message.length - piece.length);
  return message;
}

/**
 * CopyTo and CopyFrom: tar streams between a gRPC call and a managed container's file system, with flow
 * control both ways. CopyTo's incoming messages are paused while Docker has not taken the bytes before
 * them (at most COPY_TO_BUFFER_BYTES held); CopyFrom reads Docker's stream only while the call drains.
 */
@Injectable()
export class CopyFilesHandler {
  private readonly log: Logger;

  constructor(
    private readonly files: ContainerFilesService,
    @Inject(ROOT_LOGGER) root: Logger,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    private readonly routed: RoutedCalls,
    private readonly sessions: SessionManager,
  ) {
    this.log = root.child({ component: 'copy-files' });
  }

  /** One CopyTo call: header, then tar chunks piped to Docker; answers bytes_received once Docker has unpacked them. */
  async copyTo(call: CopyToCallStream, callback: CopyToCallback): Promise<void> {
    const log = callContextOf(call.metadata, this.log, 'CopyTo').log;
    const abort = new AbortController();
    const tar = new PassThrough({ highWaterMark: COPY_TO_BUFFER_BYTES });
    let received = 0;
    let failed: ExecError | undefined;
    let answered = false;
    const answer = (err: unknown, value?: CopyToResponse) => {
      if (answered) return;
      answered = true;
      if (err) {
        const s = toGrpcStatus(err);
        log.debug({ code: statusName(s.code), details: s.details, bytes: received }, 'copy to container failed');
        callback({ code: s.code, details: s.details, message: s.details });
      } else callback(null, value);
    };
    const fail = (err: ExecError) => {
      failed ??= err;
      tar.destroy(err);
    };
    let onData: (msg: CopyToRequest__Output) => void = () => undefined;
    let onEnd: () => void = () => undefined;
    const header = new Promise<{ container_id: string; path: string }>((resolve, reject) => {
      let first = true;
      call.on(
        'data',
        (onData = (msg: CopyToRequest__Output) => {
          if (first) {
            first = false;
            call.pause(); // nothing more until the container and path are checked
            if (!msg.header)
              return reject(new ExecError('invalid', `the first CopyTo message must be header (container_id, path), got ${msg.msg ?? 'an empty message'}`));
            return resolve({ container_id: msg.header.container_id ?? '', path: msg.header.path ?? '' });
          }
          if (failed) return;
          stall.refresh();
          if (msg.header) return fail(new ExecError('invalid', 'CopyTo takes one header, as the first message only'));
          const chunk = msg.tar;
          if (!chunk?.length) return;
          received += chunk.length;
          if (!tar.write(chunk)) call.pause();
        }),
      );
      call.on(
        'end',
        (onEnd = () => {
          if (first) reject(new ExecError('invalid', 'CopyTo closed before its header (container_id, path)'));
          else tar.end();
        }),
      );
    });
    const gone = () => {
      abort.abort();
      fail(new ExecError('aborted', 'client cancelled the copy'));
    };
    call.on('cancelled', gone);
    call.on('error', gone);
    tar.on('drain', () => call.resume());
    tar.on('error', () => undefined); // its failure is `failed`, answered below
    // Docker holds the container's lock while it unpacks, for as long as the request is open: a client
    // that stops sending for EXEC_COPY_STALL_MS ends the copy (and the request) rather than hold it.
    const stall = setTimeout(() => {
      abort.abort();
      fail(new ExecError('aborted', `CopyTo sent nothing for ${this.config.EXEC_COPY_STALL_MS} ms (EXEC_COPY_STALL_MS): the copy was ended`));
    }, this.config.EXEC_COPY_STALL_MS);
    stall.unref();
    try {
      const h = await header;
      const owner = await this.routed.forContainer(h.container_id, call.metadata);
      if (!owner.local) {
        // The container is another replica's: the header and the rest of the stream go there.
        clearTimeout(stall);
        call.removeListener('data', onData);
        call.removeListener('end', onEnd);
        call.removeListener('cancelled', gone);
        call.removeListener('error', gone);
        return answer(null, await this.routed.forwarder.clientStream<CopyToResponse>(call as unknown as ForwardedCall, 'CopyTo', { header: h }, owner));
      }
      const { id, path } = await this.files.resolve(h.container_id, h.path);
      log.debug({ containerId: id, path }, 'copy to container');
      call.resume();
      await this.files.putArchive(id, path, tar, abort.signal);
      if (failed) throw failed;
      log.debug({ containerId: id, path, bytes: received }, 'copied to container');
      // Its audit event (written as the answer goes out) says which container and how many bytes.
      const ctx = boundCallContext(call.metadata);
      if (ctx?.audit) ctx.audit.details.request = { path, bytes: received };
      noteContainer(ctx, this.sessions, id);
      answer(null, { bytes_received: String(received) });
    } catch (err) {
      answer(failed ?? err);
      tar.destroy();
      call.resume(); // let grpc-js discard what the client still sends
    } finally {
      clearTimeout(stall);
    }
  }

  /** One CopyFrom call: the path's stat first, then Docker's tar stream, read only as fast as the client takes it. */
  copyFrom(req: CopyFromRequest__Output, call: CopyFromCallStream): Observable<never> {
    const log = callContextOf(call.metadata, this.log, 'CopyFrom').log;
    return new Observable<never>((subscriber) => {
      const abort = new AbortController();
      this.routed
        .forContainer(req.container_id, call.metadata)
        .then((owner) =>
          owner.local ? this.sendArchive(req, call, abort, log) : this.routed.forwarder.serverStream(call as unknown as ForwardedCall, 'CopyFrom', req, owner),
        )
        .then(
          () => subscriber.complete(),
          (err) => {
            const s = toGrpcStatus(err);
            log.debug({ code: statusName(s.code), details: s.details }, 'copy from container failed');
            subscriber.error(err); // GrpcExceptionFilter gives it its code
          },
        );
      return () => abort.abort();
    });
  }

  private async sendArchive(req: CopyFromRequest__Output, call: CopyFromCallStream, abort: AbortController, log: Logger): Promise<void> {
    const gone = () => abort.abort();
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    try {
      const { id, path } = await this.files.resolve(req.container_id, req.path);
      const ctx = boundCallContext(call.metadata);
      if (ctx?.audit) ctx.audit.details.request = { path };
      noteContainer(ctx, this.sessions, id);
      const { stat, tar } = await this.files.getArchive(id, path, abort.signal);
      const stop = () => tar.destroy();
      abort.signal.addEventListener('abort', stop, { once: true });
      let sent = 0;
      let stalled = false;
      // Full-size messages come from a pool and go back once written: no Buffer per message to collect.
      const pool = new FramedMessagePool(1, COPY_FROM_MESSAGE_BYTES, COPY_FROM_POOLED_MESSAGES);
      const writeTar = (piece: Buffer): boolean => {
        if (piece.length !== pool.bytes) return call.write(tarMessage(piece));
        const message = pool.take();
        piece.copy(message, message.length - piece.length);
        return call.write(message, () => pool.give(message));
      };
      try {
        const statMessage = {
          stat: { name: stat.name, size: String(stat.size), mode: stat.mode >>> 0, mtime: String(stat.mtimeNs), link_target: stat.linkTarget },
        };
        if (!call.write(statMessage)) await waitForDrain(call, abort.signal);
        // Docker's stream is paused while the call does not drain: a client that does not read stops the reads.
        // ('data' events, not the async iterator, whose read() would concatenate buffered chunks into copies.)
        await new Promise<void>((resolve, reject) => {
          const onData = (chunk: Buffer) => {
            noteShortLivedBytes(chunk.length);
            let full = false;
            for (let at = 0; at < chunk.length; at += COPY_FROM_MESSAGE_BYTES) {
              const piece = chunk.subarray(at, at + COPY_FROM_MESSAGE_BYTES);
              sent += piece.length;
              if (!writeTar(piece)) full = true;
            }
            if (full && !abort.signal.aborted) {
              tar.pause();
              // Docker holds the container's lock while it streams the archive: a client that takes
              // nothing for EXEC_COPY_STALL_MS ends the copy rather than hold it (and its container) for ever.
              const stall = setTimeout(() => {
                stalled = true;
                abort.abort();
              }, this.config.EXEC_COPY_STALL_MS);
              stall.unref();
              void waitForDrain(call, abort.signal).then(() => {
                clearTimeout(stall);
                tar.resume();
              });
            }
          };
          tar.on('data', onData);
          tar.once('end', resolve);
          tar.once('error', reject);
          tar.once('close', () => (abort.signal.aborted ? resolve() : undefined));
        });
      } catch (err) {
        if (abort.signal.aborted) return;
        throw new ExecError('unavailable', `archive of ${path} in container ${id.slice(0, 12)} broke off after ${sent} bytes: ${(err as Error).message}`);
      } finally {
        abort.signal.removeEventListener('abort', stop);
        tar.destroy();
      }
      if (stalled) {
        throw new ExecError(
          'aborted',
          `CopyFrom's client took nothing for ${this.config.EXEC_COPY_STALL_MS} ms (EXEC_COPY_STALL_MS): the copy was ended after ${sent} bytes`,
        );
      }
      log.debug({ containerId: id, path, bytes: sent, cancelled: abort.signal.aborted }, 'copied from container');
    } finally {
      call.removeListener('cancelled', gone);
      call.removeListener('close', gone);
      call.removeListener('error', gone);
    }
  }
}
