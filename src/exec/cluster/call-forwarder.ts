import { statusName } from '../../common/log-levels';
import type { Deadline, Metadata, ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { detailOfTrailers, ExecError, kindOfGrpcCode, toGrpcStatus } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import { forwardedMetadata, markHandedToOwner } from './forwarded-metadata';
import type { Owner } from './owner-router';
import { PeerChannels } from './peer-channels';
import { PeerDirectory } from './peer-directory';
import { STATUS_FLUSH_MS } from '../session';
import { writeOrPause } from './write-or-pause';
import { sleep } from '../../common/sleep';

/** A peer that is the owner. */
export type RemoteOwner = Extract<Owner, { local: false }>;

/** How long a forwarded unary call may take without a sooner deadline of its caller (the owner's own Docker deadlines are shorter). */
const UNARY_DEADLINE_MS = 120_000;

/**
 * The server side of a forwarded call that the owner's messages are written to (a server stream:
 * CopyFrom, ContainerLifecycle), with grpc-js's flow control. The raw grpc-js call, as Nest hands it
 * to a handler, is one; so are the handlers' own narrower types of it.
 */
export interface ForwardedWriter {
  write(message: unknown): boolean;
  once(event: 'drain' | 'cancelled', fn: () => void): unknown;
  removeListener(event: 'cancelled', fn: () => void): unknown;
  cancelled?: boolean;
  metadata?: Metadata;
}

/** The server side of a forwarded call whose client's messages are read and passed on (a client stream: CopyTo). */
export interface ForwardedReader {
  on(event: 'data', fn: (message: unknown) => void): unknown;
  on(event: 'end' | 'cancelled', fn: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  cancelled?: boolean;
  metadata?: Metadata;
}

/** A forwarded Session call: read and written both ways, and ended here with the owner's status. */
export interface ForwardedDuplex extends ForwardedWriter, ForwardedReader {
  on(event: 'data', fn: (message: unknown) => void): unknown;
  on(event: 'end' | 'cancelled', fn: () => void): unknown;
  emit(event: 'error', status: { code: number; details: string }): unknown;
  end(): unknown;
}

/**
 * A peer's failure as this replica answers it: the owner's own status and details, with UNAVAILABLE
 * naming the replica (REPLICA_UNAVAILABLE when the replica itself could not be reached).
 */
export function peerError(err: unknown, owner: RemoteOwner): ExecError {
  const e = err as Partial<ServiceError>;
  if (typeof e.code !== 'number') {
    return new ExecError('internal', `forwarding to replica ${owner.replica}: ${String(err)}`, { reason: 'INTERNAL', metadata: { replica: owner.replica } });
  }
  const kind = kindOfGrpcCode(e.code);
  const details = e.details || e.message || '';
  const detail = detailOfTrailers(e.code, e.metadata);
  if (kind !== 'unavailable') return new ExecError(kind, details, detail);
  return new ExecError(
    'unavailable',
    `replica ${owner.replica} (${owner.address}) is unavailable: ${details}`,
    detail ?? { reason: 'REPLICA_UNAVAILABLE', metadata: { replica: owner.replica } },
  );
}

/**
 * Forwards calls to the replica that owns their session or container, and streams the answer back.
 * Output is passed on as the owner encoded it (byte-exact, never decoded here). Flow control holds end to
 * end: the forwarder reads from the owner only while the client's call drains, and from the client only
 * while the owner's call drains, so it holds a bounded amount per call (grpc-js's 16 messages plus the
 * HTTP/2 windows), and a
 * stalled client slows only the owner's call to this replica, which the owner treats as any slow client
 * (its container never waits).
 */
@Injectable()
export class CallForwarder implements BeforeApplicationShutdown {
  private readonly log: Logger;
  /** Ends each forwarded call in flight with this error (and cancels its owner's call): see beforeApplicationShutdown. */
  private readonly inFlight = new Set<(err: ExecError) => void>();

  constructor(
    private readonly channels: PeerChannels,
    private readonly directory: PeerDirectory,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'forwarder' });
  }

  /**
   * This replica is draining (SIGTERM): its forwarded calls end as its own clients' do, UNAVAILABLE
   * telling them to reconnect, which they can through any replica while the owner goes on (a cut
   * would reach them as CANCELLED: ResumingSession reconnects then too, a plain client would not).
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.inFlight.size) return;
    this.log.info({ calls: this.inFlight.size }, 'draining: forwarded calls told to reconnect');
    const err = new ExecError(
      'unavailable',
      `replica ${this.directory.self}, which forwarded this call, is shutting down; its owner goes on: reconnect (through any replica) ` +
        'with session_id and replay_from_sequence = last sequence seen + 1',
    );
    for (const end of [...this.inFlight]) end(err);
    // The statuses go out before the server closes (which would cut the calls: CANCELLED).
    await sleep(STATUS_FLUSH_MS);
  }

  /** A unary call, answered by the owner (its status code kept), within the caller's deadline if it has one. */
  async unary<Res>(owner: RemoteOwner, method: string, req: unknown, metadata: Metadata | undefined, deadline?: Deadline): Promise<Res> {
    try {
      return await this.channels.unary<Res>(owner.address, method, req, this.metadataFor(metadata), UNARY_DEADLINE_MS, deadline);
    } catch (err) {
      throw peerError(err, owner);
    }
  }

  /**
   * A Session call whose Start (`first`, already read) names a session or container of `owner`: the
   * Start and everything the client sends after it go to the owner; the owner's responses come back
   * unchanged. Resolves when the call has ended either way.
   */
  session(call: ForwardedDuplex, first: unknown, owner: RemoteOwner): Promise<void> {
    if (call.cancelled) return Promise.resolve(); // gone while its owner was looked up: nothing is opened
    const upstream = this.channels.bidiUndecoded(owner.address, 'Session', this.metadataFor(call.metadata));
    upstream.write(first);
    return this.pipe(call, upstream, owner, call);
  }

  /** A server-streaming call (CopyFrom, a container's ContainerLifecycle): the owner's messages passed on unchanged. */
  serverStream(call: ForwardedWriter, method: string, req: unknown, owner: RemoteOwner): Promise<void> {
    if (call.cancelled) return Promise.resolve();
    const upstream = this.channels.serverStream(owner.address, method, req, this.metadataFor(call.metadata), true);
    return this.pipe(call, upstream, owner);
  }

  /**
   * A client-streaming call (CopyTo) whose first message (`first`, already read) named the owner's
   * container: it and the rest go to the owner; the owner's answer (or status) is the answer.
   */
  clientStream<Res>(call: ForwardedReader, method: string, first: unknown, owner: RemoteOwner): Promise<Res> {
    if (call.cancelled) return Promise.reject(new ExecError('aborted', 'the client cancelled the call', { reason: 'CLIENT_CANCELLED' }));
    return new Promise<Res>((resolve, reject) => {
      const drain = (err: ExecError) => {
        upstream.cancel();
        reject(err);
      };
      this.inFlight.add(drain);
      const upstream = this.channels.clientStream<Res>(owner.address, method, this.metadataFor(call.metadata), (err, res) => {
        this.inFlight.delete(drain);
        return err ? reject(peerError(err, owner)) : resolve(res as Res);
      });
      upstream.write(first);
      this.pumpRequests(call, upstream);
    });
  }

  /** The owner's metadata for a call; the call is marked as handed over (its owner records it in its audit trail). */
  private metadataFor(incoming: Metadata | undefined): Metadata {
    markHandedToOwner(incoming);
    return forwardedMetadata(incoming, this.directory.self);
  }

  /** Client → owner: each message the client sends, paused while the owner's call does not drain. */
  private pumpRequests(
    call: ForwardedReader,
    upstream: { write(m: unknown): boolean; end(): void; cancel(): void; once(e: 'drain', f: () => void): unknown },
  ): void {
    call.on('data', (msg: unknown) => writeOrPause(upstream, msg, call));
    // A half-close is passed on as one (the owner gives it its EOF grace); a cut call cancels the owner's.
    call.on('end', () => upstream.end());
    call.on('cancelled', () => upstream.cancel());
    call.resume();
  }

  /**
   * Owner → client for a server or bidi stream, with flow control both ways. A Session call (`session`,
   * the same call) is ended here with the owner's status; a server stream's promise settles with it
   * instead (Nest ends that call when the handler's Observable completes or errors). UNAVAILABLE names the replica.
   */
  private pipe(
    call: ForwardedWriter,
    upstream: {
      on(e: 'data', f: (b: Buffer) => void): unknown;
      on(e: 'error', f: (err: ServiceError) => void): unknown;
      on(e: 'end', f: () => void): unknown;
      pause(): unknown;
      resume(): unknown;
      cancel(): void;
      write?(m: unknown): boolean;
      end?(): void;
      once(e: 'drain', f: () => void): unknown;
    },
    owner: RemoteOwner,
    session?: ForwardedDuplex,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: ExecError) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(drain);
        call.removeListener('cancelled', onClientGone);
        if (err && !session) return reject(err);
        if (err) session!.emit('error', toGrpcStatus(err));
        else session?.end();
        resolve();
      };
      const onClientGone = () => {
        upstream.cancel();
        this.inFlight.delete(drain);
        settled = true;
        resolve();
      };
      const drain = (err: ExecError) => {
        settle(err);
        upstream.cancel();
      };
      this.inFlight.add(drain);
      call.once('cancelled', onClientGone);
      upstream.on('data', (message: Buffer) => writeOrPause(call, message, upstream));
      upstream.on('end', () => settle());
      upstream.on('error', (err: ServiceError) => {
        if (settled || call.cancelled) return;
        this.log.debug({ replica: owner.replica, code: statusName(err.code), details: err.details }, 'forwarded call ended with an error');
        settle(peerError(err, owner));
      });
      if (session && upstream.write && upstream.end) {
        this.pumpRequests(session, upstream as Parameters<CallForwarder['pumpRequests']>[1]);
      }
    });
  }
}
