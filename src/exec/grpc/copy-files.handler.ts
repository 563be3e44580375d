import { statusName } from '../../common/log-levels';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ExecError, toGrpcStatus, type ErrorDetail } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { ExecConfig } from '../../common/config/exec-config';
import { EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import {
  TarFraming,
  waitForDrain,
  type CopyFromRequest__Output,
  type CopyFromResponse,
  type CopyToRequest__Output,
  type CopyToResponse,
} from '@exec-stream/client/wire';
import { ContainerFilesService, CopyProgress, type CopyPace } from '../container';
import { TarIntake } from './tar-intake';
import { RoutedCalls } from '../cluster';
import { FramedMessagePool, framedBytesMessage } from '../../common/grpc-frames';
import { noteShortLivedBytes } from '../../common/young-collections';
import { boundCallContext, callContextOf } from './auth/call-context';
import { noteContainer } from './auth/call-audit';
import { SessionManager } from '../session';
import type { ServerStreamCall } from './server-stream-call';

/** Tar bytes held between the incoming CopyTo messages and Docker's request before the call is paused. */
export const COPY_TO_BUFFER_BYTES = 1 << 20;

/** The copy settings as CopyProgress takes them. */
function copyPace(c: ExecConfig): CopyPace {
  return { windowMs: c.EXEC_COPY_STALL_MS, minBytesPerSecond: c.EXEC_COPY_MIN_BYTES_PER_SECOND, maxMs: c.EXEC_COPY_MAX_MS };
}

/**
 * The most tar bytes per CopyFrom message. Full-size messages are pooled per call (reused once written),
 * and Docker's socket reads are freed by young collections (src/common/young-collections.ts), which keeps
 * a copy's memory small (docs/BENCHMARKS.md "Files in and out").
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

  /** One CopyTo call: header, then tar chunks on their way to Docker (TarIntake); answers bytes_received once Docker has unpacked them. */
  async copyTo(call: CopyToCallStream, callback: CopyToCallback): Promise<void> {
    const log = callContextOf(call.metadata, this.log, 'CopyTo').log;
    const intake = new TarIntake({ maxBytes: this.config.EXEC_COPY_MAX_BYTES, bufferBytes: COPY_TO_BUFFER_BYTES });
    const progress = new CopyProgress('CopyTo', copyPace(this.config));
    let answered = false;
    const answer = (err: unknown, value?: CopyToResponse) => {
      if (answered) return;
      answered = true;
      if (err) {
        const s = toGrpcStatus(err);
        log.debug({ code: statusName(s.code), details: s.details, bytes: intake.received, unpacked: intake.unpacked }, 'copy to container failed');
        callback({ code: s.code, details: s.details, message: s.details, metadata: s.metadata });
      } else callback(null, value);
    };
    let paused = false;
    let sending = true; // the client may still send
    const waitOnClient = () => progress.waitingOnClient(sending && !paused);
    let onData: (msg: CopyToRequest__Output) => void = () => undefined;
    let onEnd: () => void = () => undefined;
    let refuseHeader: (err: ExecError) => void = () => undefined;
    const header = new Promise<{ container_id: string; path: string }>((resolve, reject) => {
      refuseHeader = reject;
      let first = true;
      call.on(
        'data',
        (onData = (msg: CopyToRequest__Output) => {
          if (first) {
            first = false;
            call.pause(); // nothing more until the container and path are checked
            paused = true;
            waitOnClient();
            if (!msg.header)
              return reject(
                new ExecError('invalid', `the first CopyTo message must be header (container_id, path), got ${msg.msg ?? 'an empty message'}`, {
                  reason: 'UNEXPECTED_MESSAGE',
                }),
              );
            return resolve({ container_id: msg.header.container_id ?? '', path: msg.header.path ?? '' });
          }
          if (intake.failure) return;
          if (msg.header) return intake.fail(new ExecError('invalid', 'CopyTo takes one header, as the first message only', { reason: 'UNEXPECTED_MESSAGE' }));
          const chunk = msg.tar;
          if (!chunk?.length) return;
          progress.moved(chunk.length);
          if (!intake.write(chunk)) {
            call.pause();
            paused = true;
            waitOnClient();
          }
        }),
      );
      call.on(
        'end',
        (onEnd = () => {
          sending = false;
          waitOnClient();
          if (first) reject(new ExecError('invalid', 'CopyTo closed before its header (container_id, path)', { reason: 'UNEXPECTED_MESSAGE' }));
          else intake.end();
        }),
      );
    });
    header.catch(() => undefined);
    const gone = () => {
      sending = false;
      const err = new ExecError('aborted', 'client cancelled the copy', { reason: 'CLIENT_CANCELLED' });
      refuseHeader(err);
      intake.fail(err);
    };
    call.on('cancelled', gone);
    call.on('error', gone);
    intake.onDrain(() => {
      if (intake.failure || !paused) return;
      paused = false;
      waitOnClient();
      call.resume();
    });
    waitOnClient();
    // Docker holds the container's lock while it unpacks: a client too slow, or a copy too long, ends it.
    const pace = setInterval(() => {
      const slow = progress.check();
      if (!slow) return;
      refuseHeader(slow);
      intake.fail(slow);
    }, this.config.EXEC_COPY_STALL_MS);
    pace.unref();
    try {
      const h = await header;
      const owner = await this.routed.forContainer(h.container_id, call.metadata);
      if (!owner.local) {
        // The container is another replica's: the header and the rest of the stream go there.
        clearInterval(pace);
        call.removeListener('data', onData);
        call.removeListener('end', onEnd);
        call.removeListener('cancelled', gone);
        call.removeListener('error', gone);
        return answer(null, await this.routed.forwarder.clientStream<CopyToResponse>(call, 'CopyTo', { header: h }, owner));
      }
      const { id, path } = await this.files.resolve(h.container_id, h.path);
      // Its audit event (written as the answer goes out, a refusal's too) names the container and its session.
      const ctx = boundCallContext(call.metadata);
      noteContainer(ctx, this.sessions, id);
      if (intake.failure) throw intake.failure;
      log.debug({ containerId: id, path }, 'copy to container');
      paused = false;
      waitOnClient();
      call.resume();
      await this.files.copyTo(id, path, intake);
      log.debug({ containerId: id, path, bytes: intake.received, unpacked: intake.unpacked }, 'copied to container');
      // Its audit event (written as the answer goes out) says how many bytes came in.
      if (ctx?.audit) ctx.audit.details.request = { path, bytes: intake.received };
      answer(null, { bytes_received: String(intake.received) });
    } catch (err) {
      intake.fail(err instanceof ExecError ? (err as ExecError) : new ExecError('aborted', 'the copy failed'));
      answer(err);
      call.resume(); // let grpc-js discard what the client still sends
    } finally {
      clearInterval(pace);
    }
  }

  /** One CopyFrom call: the path's stat first, then Docker's tar stream, read only as fast as the client takes it. */
  copyFrom(req: CopyFromRequest__Output, call: CopyFromCallStream): Observable<never> {
    const log = callContextOf(call.metadata, this.log, 'CopyFrom').log;
    return new Observable<never>((subscriber) => {
      const abort = new AbortController();
      this.routed
        .forContainer(req.container_id, call.metadata)
        .then((owner) => (owner.local ? this.sendArchive(req, call, abort, log) : this.routed.forwarder.serverStream(call, 'CopyFrom', req, owner)))
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
      let stalled: ExecError | undefined;
      // Docker holds the container's lock while it streams the archive: a client too slow, or a copy too long, ends it.
      const progress = new CopyProgress('CopyFrom', copyPace(this.config));
      const pace = setInterval(() => {
        stalled ??= progress.check();
        if (stalled) abort.abort();
      }, this.config.EXEC_COPY_STALL_MS);
      pace.unref();
      // The archive's framing is followed as it passes: Docker ends its stream early, and cleanly, when a
      // file shrinks while it is read (its header said more), so only the framing tells a short copy.
      const framing = new TarFraming();
      const where = `archive of ${path} in container ${id.slice(0, 12)}`;
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
            try {
              framing.push(chunk);
            } catch (err) {
              return reject(new ExecError('data_loss', `${where}: Docker sent bytes that are not tar framing after ${sent} bytes: ${(err as Error).message}`));
            }
            let full = false;
            for (let at = 0; at < chunk.length; at += COPY_FROM_MESSAGE_BYTES) {
              const piece = chunk.subarray(at, at + COPY_FROM_MESSAGE_BYTES);
              sent += piece.length;
              if (!writeTar(piece)) full = true;
            }
            progress.moved(chunk.length);
            if (full && !abort.signal.aborted) {
              tar.pause();
              progress.waitingOnClient(true);
              void waitForDrain(call, abort.signal).then(() => {
                progress.waitingOnClient(false);
                tar.resume();
              });
            }
          };
          tar.on('data', onData);
          tar.once('end', () => {
            const problem = framing.problemAtEnd();
            if (!problem) return resolve();
            reject(
              new ExecError(
                'aborted',
                `${where} is incomplete: ${problem}; the file changed while it was copied (or Docker's stream broke off): copy it again`,
              ),
            );
          });
          tar.once('error', reject);
          tar.once('close', () => (abort.signal.aborted ? resolve() : undefined));
        });
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof ExecError) throw err;
        throw new ExecError('unavailable', `${where} broke off after ${sent} bytes: ${(err as Error).message}`, { reason: 'DOCKER_ERROR' });
      } finally {
        clearInterval(pace);
        abort.signal.removeEventListener('abort', stop);
        tar.destroy();
      }
      if (stalled) throw new ExecError('aborted', `${stalled.message} (after ${sent} bytes)`, stalled.detail as ErrorDetail<'aborted'> | undefined);
      log.debug({ containerId: id, path, bytes: sent, cancelled: abort.signal.aborted }, 'copied from container');
    } finally {
      call.removeListener('cancelled', gone);
      call.removeListener('close', gone);
      call.removeListener('error', gone);
    }
  }
}
