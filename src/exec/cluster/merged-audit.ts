import { statusName } from '../../common/log-levels';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { AuditEventsRequest__Output, AuditEventsResponse } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import { forwardedMetadata } from './forwarded-metadata';
import { PeerChannels } from './peer-channels';
import { PeerDirectory } from './peer-directory';

/** How long after a peer's stream broke it is opened again (follow mode). */
const RECONNECT_MS = 1_000;

type Source = AsyncIterator<AuditEventsResponse>;

interface Head {
  source: Source;
  value?: AuditEventsResponse;
  done: boolean;
  caughtUp: boolean;
}

/**
 * AuditEvents over every replica: each peer is asked for its own trail with the same filters (each
 * replica takes the resume_after entry that names it), and the answers are merged with this replica's.
 * The held events come merged by time (then replica, then seq), then one `caught_up`, then live events
 * as they come. A peer that cannot be asked is named in a `replica_unreachable` (it counts as caught up);
 * with `follow` it is asked again every second, resuming after the last event it sent, and a
 * `replica_reachable` names it once it answers. The peers are those known when the call starts.
 */
@Injectable()
export class MergedAudit {
  private readonly log: Logger;

  constructor(
    private readonly channels: PeerChannels,
    private readonly directory: PeerDirectory,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'merged-audit' });
  }

  merge(
    req: AuditEventsRequest__Output,
    local: AsyncIterable<AuditEventsResponse>,
    metadata: Metadata | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<AuditEventsResponse> {
    const sources = [local[Symbol.asyncIterator]()];
    for (const [replica, address] of this.directory.peers()) sources.push(this.peer(replica, address, req, metadata, signal));
    return mergeByTime(sources);
  }

  /** One peer's answer, as a source: its messages, and notices when it cannot be asked (asked again with `follow`). */
  private async *peer(
    replica: string,
    address: string,
    req: AuditEventsRequest__Output,
    metadata: Metadata | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<AuditEventsResponse> {
    let resumeAfter = req.resume_after ?? [];
    let reachable = true;
    let caughtUp = false;
    while (!signal.aborted) {
      const stream = this.channels.serverStream(
        address,
        'AuditEvents',
        { ...req, resume_after: resumeAfter },
        forwardedMetadata(metadata, this.directory.self),
        false,
      );
      const cancel = () => stream.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      try {
        for await (const m of stream as AsyncIterable<AuditEventsResponse>) {
          if (!reachable) {
            reachable = true;
            this.log.info({ replica }, "a peer's audit trail answers again");
            yield { replica_reachable: replica };
          }
          if (m.event?.id) resumeAfter = [String(m.event.id)];
          if (m.caught_up) {
            if (caughtUp) continue; // asked again: its first caught_up was passed on
            caughtUp = true;
          }
          yield m;
        }
        return;
      } catch (err) {
        if (signal.aborted) return;
        const e = err as ServiceError;
        if (reachable) {
          reachable = false;
          this.log.warn({ replica, code: statusName(e.code), details: e.details }, "a peer's audit trail could not be read");
          yield { replica_unreachable: replica };
        }
        if (!caughtUp) {
          caughtUp = true;
          yield { caught_up: true };
        }
        if (!req.follow) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, RECONNECT_MS);
          signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    }
  }
}

/** Event time, then replica, then seq: the order of the merged held events. */
function before(a: AuditEventsResponse, b: AuditEventsResponse): boolean {
  const [x, y] = [a.event!, b.event!];
  const tx = BigInt(String(x.time ?? 0));
  const ty = BigInt(String(y.time ?? 0));
  if (tx !== ty) return tx < ty;
  if (x.replica !== y.replica) return String(x.replica) < String(y.replica);
  return BigInt(String(x.seq ?? 0)) < BigInt(String(y.seq ?? 0));
}

/**
 * Merges sources that each send their held events in order, then `caught_up`, then live ones: the held
 * events of all by time (a notice goes out as soon as it comes), one `caught_up` once every source has
 * sent its own (or ended), then whatever comes from any source, as it comes.
 */
export async function* mergeByTime(sources: Source[]): AsyncGenerator<AuditEventsResponse> {
  const heads: Head[] = sources.map((source) => ({ source, done: false, caughtUp: false }));
  const fill = async (h: Head) => {
    if (h.value || h.done || h.caughtUp) return;
    const r = await h.source.next();
    if (r.done) h.done = true;
    else h.value = r.value;
  };
  for (;;) {
    await Promise.all(heads.map(fill));
    let notices = false;
    for (const h of heads) {
      if (!h.value || h.value.event) continue;
      if (h.value.caught_up) h.caughtUp = true;
      else yield h.value;
      h.value = undefined;
      notices = true;
    }
    if (notices) continue;
    let first: Head | undefined;
    for (const h of heads) if (h.value && (!first || before(h.value, first.value!))) first = h;
    if (!first) break;
    yield first.value!;
    first.value = undefined;
  }
  yield { caught_up: true };
  const pending = new Map<Head, Promise<{ h: Head; r: IteratorResult<AuditEventsResponse> }>>();
  const arm = (h: Head) =>
    pending.set(
      h,
      h.source.next().then((r) => ({ h, r })),
    );
  for (const h of heads) if (!h.done) arm(h);
  while (pending.size) {
    const { h, r } = await Promise.race(pending.values());
    pending.delete(h);
    if (r.done) continue;
    if (!r.value.caught_up) yield r.value;
    arm(h);
  }
}
