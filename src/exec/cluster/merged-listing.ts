import { statusName } from '../../common/log-levels';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { ListSessionsRequest__Output, ListSessionsResponse, SessionInfo } from '@exec-stream/client/wire';
import type { Logger } from '../../common/logger';
import { ROOT_LOGGER } from '../../common/tokens';
import { pageTokenAt } from '../session';
import { forwardedMetadata } from './forwarded-metadata';
import { PeerChannels } from './peer-channels';
import { PeerDirectory } from './peer-directory';

/** How long a peer may take to answer its part of a merged ListSessions. */
const PEER_LIST_DEADLINE_MS = 5_000;

const createdMs = (s: SessionInfo) => Number(BigInt(String(s.created_at ?? '0')) / 1_000_000n);
const byPosition = (a: SessionInfo, b: SessionInfo) =>
  createdMs(a) - createdMs(b) || ((a.session_id ?? '') < (b.session_id ?? '') ? -1 : (a.session_id ?? '') > (b.session_id ?? '') ? 1 : 0);

/**
 * ListSessions over every replica. A page token is a position in one order (creation time, then
 * session id) that every replica understands, so each replica is asked for its first `limit` sessions
 * after the same position, and the merged page is the first `limit` of their union; the next token is
 * the position of its last session. Replicas that cannot be asked are named in `unreachable_replicas`.
 */
@Injectable()
export class MergedListing {
  private readonly log: Logger;

  constructor(
    private readonly channels: PeerChannels,
    private readonly directory: PeerDirectory,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'merged-listing' });
  }

  /** `local` is this replica's page for `req` (validated there first: bad input fails before any peer is asked). */
  async list(req: ListSessionsRequest__Output, limit: number, local: ListSessionsResponse, metadata: Metadata | undefined): Promise<ListSessionsResponse> {
    const unreachable: string[] = [];
    const pages = await Promise.all(
      [...this.directory.peers()].map(([replica, address]) =>
        this.channels
          .unary<ListSessionsResponse>(address, 'ListSessions', req, forwardedMetadata(metadata, this.directory.self), PEER_LIST_DEADLINE_MS)
          .catch((err: ServiceError) => {
            this.log.warn({ replica, code: statusName(err.code), details: err.details }, 'a peer could not be listed');
            unreachable.push(replica);
            return undefined;
          }),
      ),
    );
    const all = [local, ...pages].filter((p): p is ListSessionsResponse => !!p);
    const sessions = all.flatMap((p) => p.sessions ?? []).sort(byPosition);
    const page = sessions.slice(0, limit);
    const more = sessions.length > limit || all.some((p) => !!p.next_page_token);
    const last = page[page.length - 1];
    return {
      sessions: page,
      next_page_token: more && last ? pageTokenAt(createdMs(last), last.session_id ?? '') : '',
      unreachable_replicas: unreachable.sort(),
    };
  }
}
