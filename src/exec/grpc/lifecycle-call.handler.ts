import { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import { ExecError } from '../../common/errors';
import { DRAIN_MESSAGE, STATUS_FLUSH_MS } from '../session';
import type { ContainerLifecycleEvent, ContainerLifecycleRequest__Output } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import type { ExecConfig } from '../../common/config/exec-config';
import { PeerLifecycle, RoutedCalls } from '../cluster';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import type { LifecycleCursor } from '../../lifecycle/lifecycle-cursor';
import type { LifecycleEvent } from '../../lifecycle/lifecycle-event';
import { optionalId } from '../../common/request-ids';
import { waitForDrain } from '@exec-stream/client/wire';
import { callContextOf } from './auth/call-context';
import type { ServerStreamCall } from './server-stream-call';
import { sleep } from '../../common/sleep';

/** What the handler needs of the raw grpc-js server-writable call. */
export type LifecycleCallStream = ServerStreamCall<ContainerLifecycleEvent>;

/**
 * One ContainerLifecycle call: a cursor into the lifecycle bus, written to the call one event at a time
 * with grpc-js's own flow control (write() false → wait for 'drain'). The server holds nothing for a
 * slow client but its cursor position; one that falls behind the bus history gets a `dropped` event.
 *
 * Nest's @GrpcStreamCall is only for client-streaming methods; for a server stream Nest passes the raw
 * call as the handler's third argument and writes whatever Observable the handler returns (buffering
 * without bound for a slow client). So the handler returns an Observable that emits nothing and
 * completes when the delivery loop ends, and the loop writes to the call itself.
 */
@Injectable()
export class LifecycleCallHandler implements BeforeApplicationShutdown {
  private readonly log: Logger;
  /** Ends each local subscription with an error (the drain's): see beforeApplicationShutdown. */
  private readonly open = new Set<(err: ExecError) => void>();

  constructor(
    private readonly bus: LifecycleBus,
    private readonly routed: RoutedCalls,
    private readonly peers: PeerLifecycle,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'lifecycle-call' });
  }

  /** Draining (SIGTERM): subscribers are told UNAVAILABLE to come back, as session clients are, not cut. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.open.size) return;
    const err = new ExecError('unavailable', `${DRAIN_MESSAGE}; lifecycle subscribers: resume with resume_after_id = the last event id seen`);
    for (const end of [...this.open]) end(err);
    await sleep(STATUS_FLUSH_MS);
  }

  /**
   * resume_after_id is a decimal string (longs: String); absent = only new events. With peers, a
   * container's events come from its owner, and a call without a container filter also gets every
   * peer's events (docs/SCALING.md).
   */
  handle(req: ContainerLifecycleRequest__Output, call: LifecycleCallStream): Observable<never> {
    const containerId = optionalId('container_id', req.container_id) || undefined;
    const resumeAfterId = parseResumeId(req.resume_after_id);
    const merges = this.routed.mergesPeers(call.metadata);
    if (containerId && merges) {
      // The container may be another replica's: its events come from there.
      return new Observable<never>((subscriber) => {
        const ended = new AbortController();
        let inner: Subscription | undefined;
        void this.routed.forContainer(containerId, call.metadata).then(
          (owner) => {
            if (ended.signal.aborted) return;
            if (owner.local) {
              try {
                inner = this.local(containerId, resumeAfterId, req, call, false).subscribe(subscriber);
              } catch (err) {
                subscriber.error(err);
              }
              return;
            }
            this.routed.forwarder.serverStream(call, 'ContainerLifecycle', req, owner).then(
              () => subscriber.complete(),
              (err) => subscriber.error(err),
            );
          },
          (err) => subscriber.error(err),
        );
        return () => {
          ended.abort();
          inner?.unsubscribe();
        };
      });
    }
    return this.local(containerId, resumeAfterId, req, call, merges);
  }

  /** This replica's events (the cursor opened now: "from now on" starts with the call), and the peers' when `withPeers`. */
  private local(
    containerId: string | undefined,
    resumeAfterId: number | undefined,
    req: ContainerLifecycleRequest__Output,
    call: LifecycleCallStream,
    withPeers: boolean,
  ): Observable<never> {
    let cursor: LifecycleCursor;
    try {
      cursor = this.bus.open({ containerId, resumeAfterId });
    } catch (err) {
      throw err instanceof RangeError
        ? new ExecError('invalid', `resume_after_id: ${err.message}`, { reason: 'FIELD_INVALID', field: 'resume_after_id' })
        : err;
    }
    return new Observable<never>((subscriber) => {
      const ended = new AbortController();
      // The headers go at once: a client can tell "subscribed" from "hanging" before the first event.
      call.sendMetadata?.(new Metadata());
      if (withPeers) this.peers.follow(req.resume_after_id, call, ended.signal);
      let drained: ExecError | undefined;
      const drain = (err: ExecError) => {
        drained = err;
        cursor.close();
      };
      this.open.add(drain);
      this.deliver(cursor, call, callContextOf(call.metadata, this.log, 'ContainerLifecycle').log).then(
        () => (drained ? subscriber.error(drained) : subscriber.complete()),
        // The error as it is: the exception filter gives it its status (an ExecError keeps its code).
        (err) => subscriber.error(err),
      );
      return () => {
        this.open.delete(drain);
        ended.abort();
        cursor.close();
      };
    });
  }

  private async deliver(cursor: LifecycleCursor, call: LifecycleCallStream, log: Logger): Promise<void> {
    const gone = () => cursor.close();
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
    log.debug({ containerId: cursor.containerId, from: cursor.position }, 'lifecycle subscriber attached');
    try {
      if (call.cancelled) return;
      while (!cursor.isClosed) {
        const event = cursor.read();
        if (!event) {
          await cursor.waitForEvent();
          continue;
        }
        // A call that ends while blocked never drains: the cursor closing (on 'cancelled') ends the wait too.
        if (!call.write(toProto(event, this.config.EXEC_REPLICA_ID))) await waitForDrain(call, cursor.signal);
      }
    } finally {
      cursor.close();
      call.removeListener('cancelled', gone);
      call.removeListener('close', gone);
      call.removeListener('error', gone);
      log.debug({ dropped: cursor.droppedTotal }, 'lifecycle subscriber detached');
    }
  }
}

function parseResumeId(value: string | number | undefined): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const s = String(value);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)))
    throw new ExecError('invalid', `resume_after_id ${s} is not an event id`, { reason: 'FIELD_INVALID', field: 'resume_after_id' });
  return Number(s);
}

export function toProto(e: LifecycleEvent, replica: string): ContainerLifecycleEvent {
  return {
    container_id: e.containerId,
    event_type: e.type,
    status: e.status,
    timestamp: String(e.timestampNs),
    exit_code: e.exitCode ?? 0,
    message: e.message ?? '',
    id: String(e.id),
    dropped: String(e.dropped ?? 0),
    signal: e.signal ?? 0,
    session_id: e.sessionId ?? '',
    exec_id: e.execId ?? '',
    source: e.source,
    replica,
  };
}
