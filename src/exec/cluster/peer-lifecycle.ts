import { statusName } from '../../common/log-levels';
import { status as Code, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { ContainerLifecycleEvent } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import type { ForwardedWriter } from './call-forwarder';
import { forwardedMetadata } from './forwarded-metadata';
import { PeerChannels } from './peer-channels';
import { PeerDirectory } from './peer-directory';
import { nowNs } from '../../common/time';
import { writeOrPause } from './write-or-pause';

/** The merged stream's own event types (besides every LifecycleEvent type a replica sends): written here, never on a bus. */
type ReplicaEventType = 'replica_unreachable' | 'replica_reachable';

/** How long after a peer's stream broke it is opened again. */
const RECONNECT_MS = 1_000;

/**
 * The other replicas' lifecycle events, merged into one ContainerLifecycle call without a container
 * filter. Each peer's stream is opened (forwarded: the peer sends only its own events, each naming its
 * replica) and written into the call as its events come, paused while the call does not drain. A peer
 * whose stream breaks gets one `replica_unreachable` event and is opened again every second, resuming
 * after the last id it sent, and one `replica_reachable` once it is open again; ids are per replica.
 * The peers are those known when the call starts.
 */
@Injectable()
export class PeerLifecycle {
  private readonly log: Logger;

  constructor(
    private readonly channels: PeerChannels,
    private readonly directory: PeerDirectory,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'peer-lifecycle' });
  }

  /** Follows every peer until `signal` aborts (the call ended). */
  follow(resumeAfterId: string | undefined, call: ForwardedWriter, signal: AbortSignal): void {
    for (const [replica, address] of this.directory.peers()) this.followOne(replica, address, resumeAfterId, call, signal);
  }

  private followOne(replica: string, address: string, resumeAfterId: string | undefined, call: ForwardedWriter, signal: AbortSignal): void {
    let lastId = resumeAfterId;
    let reachable = true;
    let stream: ClientReadableStream<unknown> | undefined;
    const stop = () => stream?.cancel();
    signal.addEventListener('abort', stop, { once: true });
    const open = () => {
      if (signal.aborted) return;
      const req = lastId === undefined ? {} : { resume_after_id: lastId };
      // grpc-js ends a failed stream with 'error' and then 'end': it is opened again once, not per event.
      let reopened = false;
      const reopen = () => {
        if (reopened || signal.aborted) return;
        reopened = true;
        setTimeout(open, RECONNECT_MS).unref();
      };
      stream = this.channels.serverStream(address, 'ContainerLifecycle', req, forwardedMetadata(call.metadata, this.directory.self), false);
      // The peer's headers say its stream is open (it sends them at once): reachable again, said once.
      const answers = () => {
        if (reachable) return;
        reachable = true;
        this.log.info({ replica }, "a peer's lifecycle stream is open again");
        call.write({
          event_type: 'replica_reachable' satisfies ReplicaEventType,
          replica,
          message: `replica ${replica} (${address}) answers again; its events from where it left off follow`,
          timestamp: String(nowNs()),
        } satisfies ContainerLifecycleEvent);
      };
      stream.on('metadata', answers);
      stream.on('data', (event: ContainerLifecycleEvent) => {
        answers();
        if (event.id !== undefined) lastId = String(event.id);
        writeOrPause(call, event, stream!);
      });
      stream.on('error', (err: ServiceError) => {
        if (signal.aborted || err.code === Code.CANCELLED) return;
        // The peer restarted (its ids began again): what it holds now is resumed from its start.
        if (err.code === Code.INVALID_ARGUMENT && lastId !== undefined) lastId = '0';
        if (reachable) {
          reachable = false;
          this.log.warn({ replica, code: statusName(err.code), details: err.details }, "a peer's lifecycle stream broke");
          call.write({
            event_type: 'replica_unreachable' satisfies ReplicaEventType,
            replica,
            message: `replica ${replica} (${address}): ${err.details}; its events follow when it answers again`,
            timestamp: String(nowNs()),
          } satisfies ContainerLifecycleEvent);
        }
        reopen();
      });
      stream.on('end', reopen);
    };
    open();
  }
}
