import type { Deadline, Metadata } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { optionalId } from '../../common/request-ids';
import { CallForwarder } from './call-forwarder';
import { isForwarded } from './forwarded-metadata';
import { LOCAL, OwnerRouter, type Owner } from './owner-router';

/**
 * The one question every handler asks before serving a call: is it ours? A call another replica
 * forwarded is always ours (never forwarded twice); otherwise the session or container it names decides.
 */
@Injectable()
export class RoutedCalls {
  constructor(
    readonly owners: OwnerRouter,
    readonly forwarder: CallForwarder,
  ) {}

  /** Whether calls without an owner (ListSessions, an unfiltered ContainerLifecycle) also ask the peers. */
  mergesPeers(metadata: Metadata | undefined): boolean {
    return this.owners.clustered && !isForwarded(metadata);
  }

  /** The owner of a session, for a call that names it (an empty or invalid id is the local handler's to refuse). */
  async forSession(sessionId: string | undefined, metadata: Metadata | undefined): Promise<Owner> {
    const id = optionalId('session_id', sessionId);
    return !id || isForwarded(metadata) ? LOCAL : this.owners.ofSession(id);
  }

  /** The owner of a container, for a call that names it (an invalid id is INVALID_ARGUMENT before anyone is asked). */
  async forContainer(containerId: string | undefined, metadata: Metadata | undefined): Promise<Owner> {
    const id = optionalId('container_id', containerId);
    return !id || isForwarded(metadata) ? LOCAL : this.owners.ofContainer(id, metadata);
  }

  /** The home replica of a run's request_id (request-id-home.ts): it runs the Start, or attaches it to the run it made. */
  async forRequestId(requestId: string | undefined, metadata: Metadata | undefined): Promise<Owner> {
    return !requestId || isForwarded(metadata) ? LOCAL : this.owners.ofRequestId(requestId);
  }

  /** A unary call about a session: served here by `local`, or by its owner within the caller's `deadline`. */
  async unaryForSession<Res>(
    method: string,
    sessionId: string | undefined,
    req: unknown,
    metadata: Metadata | undefined,
    deadline: Deadline | undefined,
    local: () => Promise<Res>,
  ): Promise<Res> {
    const owner = await this.forSession(sessionId, metadata);
    return owner.local ? local() : this.forwarder.unary<Res>(owner, method, req, metadata, deadline);
  }

  /** A unary call about a container: served here by `local`, or by its owner within the caller's `deadline`. */
  async unaryForContainer<Res>(
    method: string,
    containerId: string | undefined,
    req: unknown,
    metadata: Metadata | undefined,
    deadline: Deadline | undefined,
    local: () => Promise<Res>,
  ): Promise<Res> {
    const owner = await this.forContainer(containerId, metadata);
    return owner.local ? local() : this.forwarder.unary<Res>(owner, method, req, metadata, deadline);
  }
}
