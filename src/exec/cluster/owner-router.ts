import { status as Code, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { ExecConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { CONTAINER_CONTROL, EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import { SessionManager } from '../session';
import { forwardedMetadata } from './forwarded-metadata';
import { PeerChannels } from './peer-channels';
import { PeerDirectory } from './peer-directory';
import { RequestIdHome } from './request-id-home';
import { DNS_LABEL } from '../../common/patterns';
import { BoundedMap } from '../../common/bounded';

/**
 * What the owner lookup asks of this replica's engine (bound to CONTAINER_CONTROL, which has it): a
 * container's full id and the replica its label names; NOT_FOUND (an ExecError) when the engine has none.
 */
export interface EngineContainers {
  inspect(containerId: string): Promise<{ id: string; replica?: string }>;
}

/** Where a call is served: here, or by the replica `replica` at `address`. */
export type Owner = { local: true } | { local: false; replica: string; address: string };

export const LOCAL: Owner = { local: true };

/** How long a peer may take to say whether it has a container. */
const OWNER_QUERY_DEADLINE_MS = 5_000;
/** Container ids whose owner is remembered (the oldest is forgotten first). */
const OWNER_CACHE_ENTRIES = 10_000;

/** A session id made by replica R: `R.<uuid>` (R a DNS-1123 label, as EXEC_REPLICA_ID). */
const SESSION_OF_REPLICA = new RegExp(`^(${DNS_LABEL})\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`);

/** The replica a session id names; undefined for an id without one (made before replicas, or by hand). */
export function replicaOfSession(sessionId: string): string | undefined {
  return SESSION_OF_REPLICA.exec(sessionId)?.[1];
}

/**
 * Finds the replica that owns a session or a container. A session id names its replica; a container
 * is looked for on this replica's engine first (its label names its replica when engines are shared),
 * then each peer is asked once (ContainerStatus, forwarded, so it answers from its own engine) and the
 * answer is remembered. With no peers configured everything is local and nothing is asked.
 */
@Injectable()
export class OwnerRouter {
  private readonly log: Logger;
  /** container id (as given, and in full) → owning replica. */
  private readonly owners = new BoundedMap<string, string>(OWNER_CACHE_ENTRIES);

  constructor(
    private readonly directory: PeerDirectory,
    private readonly channels: PeerChannels,
    private readonly sessions: SessionManager,
    private readonly homes: RequestIdHome,
    @Inject(CONTAINER_CONTROL) private readonly control: EngineContainers,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ component: 'owner-router' });
  }

  /** Peers are configured (EXEC_PEERS or EXEC_PEERS_DNS): calls may be forwarded. */
  get clustered(): boolean {
    return !!(this.config.EXEC_PEERS || this.config.EXEC_PEERS_DNS);
  }

  get self(): string {
    return this.directory.self;
  }

  /** The owner of a session; UNAVAILABLE when its replica is not among the peers. */
  async ofSession(sessionId: string): Promise<Owner> {
    const replica = replicaOfSession(sessionId);
    if (!this.clustered || !replica || replica === this.self) return LOCAL;
    return this.peer(replica, `session ${sessionId}`);
  }

  /**
   * The owner of a container (full id or unique prefix). Local when this replica's sessions or engine
   * have it; else the peer that says it has it. NOT_FOUND is left to the local handler when nobody has
   * it; UNAVAILABLE when nobody has it but some peers could not be asked.
   */
  async ofContainer(containerId: string, metadata: Metadata | undefined): Promise<Owner> {
    if (!this.clustered || !containerId) return LOCAL;
    if (this.sessions.containerByPrefix(containerId)) return LOCAL;
    const remembered = this.owners.get(containerId);
    if (remembered) return remembered === this.self ? LOCAL : this.peer(remembered, `container ${containerId}`);
    const here = await this.control.inspect(containerId).catch((err: unknown) => {
      if (err instanceof ExecError && err.kind === 'not_found') return undefined;
      throw err;
    });
    if (here) {
      // On an engine shared by replicas, the label names the owner; a container of no replica is foreign (answered here).
      const replica = here.replica && here.replica !== this.self && this.directory.peers().has(here.replica) ? here.replica : this.self;
      this.remember(containerId, here.id, replica);
      return replica === this.self ? LOCAL : this.peer(replica, `container ${containerId}`);
    }
    return this.askPeers(containerId, metadata);
  }

  /**
   * Where a run with this request_id goes: its home replica (RequestIdHome), which alone decides whether
   * the id is new (then it runs there) or a retry (then the Start attaches there); here when this is the
   * home, or when this replica already has the id. UNAVAILABLE when the home cannot be reached: only
   * the ids of a replica that is down wait for it, a new id may start at once.
   */
  async ofRequestId(requestId: string): Promise<Owner> {
    if (!this.clustered || this.sessions.hasRequestId(requestId)) return LOCAL;
    const home = this.homes.of(requestId);
    if (home === this.self) return LOCAL;
    const address = await this.directory.addressOf(home);
    if (!address) {
      throw new ExecError(
        'unavailable',
        `request_id ${JSON.stringify(requestId.slice(0, 32))} belongs to replica ${home}, which is not among the peers now (it may be restarting): ` +
          'retry with the same request_id; starting it elsewhere could run it twice',
        { reason: 'REPLICA_UNAVAILABLE', metadata: { replicas: home } },
      );
    }
    return { local: false, replica: home, address };
  }

  private async askPeers(containerId: string, metadata: Metadata | undefined): Promise<Owner> {
    const peers = [...this.directory.peers()];
    const unreachable: string[] = [];
    let denied: string | undefined;
    const started = Date.now();
    const answers = await Promise.all(
      peers.map(async ([replica, address]) => {
        try {
          const res = await this.channels.unary<{ container_id?: string }>(
            address,
            'ContainerStatus',
            { container_id: containerId },
            forwardedMetadata(metadata, this.self),
            OWNER_QUERY_DEADLINE_MS,
          );
          return { replica, address, fullId: res.container_id || containerId };
        } catch (err) {
          const code = (err as ServiceError).code;
          // The caller's token may not ask (the probe is a ContainerStatus: scope `read`); "not managed here" is a no.
          if (code === Code.PERMISSION_DENIED && /needs scope/.test((err as ServiceError).details)) denied ??= (err as ServiceError).details;
          if (code === Code.NOT_FOUND || code === Code.PERMISSION_DENIED) return undefined;
          // Any other answer (an ambiguous prefix there, say) is the owner speaking: the forwarded call gets it.
          if (code !== Code.UNAVAILABLE && code !== Code.DEADLINE_EXCEEDED && code !== Code.UNAUTHENTICATED && code !== Code.CANCELLED)
            return { replica, address, fullId: containerId };
          unreachable.push(`${replica} (${(err as ServiceError).details})`);
          return undefined;
        }
      }),
    );
    const found = answers.find((a) => !!a);
    this.log.debug({ containerId, owner: found?.replica, askedMs: Date.now() - started, unreachable }, 'asked the peers for a container');
    if (found) {
      this.remember(containerId, found.fullId, found.replica);
      return { local: false, replica: found.replica, address: found.address };
    }
    if (denied) {
      throw new ExecError(
        'permission',
        `container ${containerId} is not on replica ${this.self}'s engine, and finding its replica asks the others with the caller's token: ${denied}`,
        { reason: 'SCOPE_MISSING', metadata: { scope: 'read' } },
      );
    }
    if (unreachable.length) {
      throw new ExecError(
        'unavailable',
        `container ${containerId} is not on replica ${this.self}'s engine and these replicas could not be asked: ${unreachable.join('; ')}`,
        { reason: 'REPLICA_UNAVAILABLE', metadata: { replicas: unreachable.map((u) => u.split(' ')[0]).join(',') } },
      );
    }
    return LOCAL; // nobody has it: the local handler answers NOT_FOUND
  }

  private async peer(replica: string, what: string): Promise<Owner> {
    const address = await this.directory.addressOf(replica);
    if (!address) {
      throw new ExecError(
        'unavailable',
        `${what} belongs to replica ${replica}, which is not among replica ${this.self}'s peers now (EXEC_PEERS / EXEC_PEERS_DNS): it may be down`,
        { reason: 'REPLICA_UNAVAILABLE', metadata: { replica } },
      );
    }
    return { local: false, replica, address };
  }

  private remember(given: string, fullId: string, replica: string): void {
    for (const id of new Set([given, fullId])) {
      this.owners.delete(id);
      this.owners.set(id, replica);
    }
  }
}
