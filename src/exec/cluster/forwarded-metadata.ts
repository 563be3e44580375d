import { Metadata } from '@grpc/grpc-js';

/**
 * Set on every call one replica makes to another, to the caller's replica id. A call carrying it is
 * answered from the receiving replica's own sessions and engine: it is never forwarded again (no loops,
 * no fan-out of a fan-out).
 */
export const FORWARDED_BY = 'x-exec-forwarded-by';

/**
 * The caller's address and client certificate subject (URI-encoded), as the replica it called saw them:
 * set by that replica's interceptor on every call it did not get forwarded, passed on with the call,
 * and recorded by the owner's audit trail as the caller's (docs/AUDIT.md).
 */
export const ORIGIN_PEER = 'x-exec-origin-peer';
export const ORIGIN_SUBJECT = 'x-exec-origin-subject';

/** What a forwarded call carries of the caller's metadata: its credentials, its ids for the logs, and who it is for the audit trail. */
const PASSED_ON = ['authorization', 'x-request-id', 'traceparent', ORIGIN_PEER, ORIGIN_SUBJECT];

/** Calls this replica handed to their owner (keyed by their request metadata): the owner records them, not this replica. */
const handedOver = new WeakSet<Metadata>();

/** Whether this call was forwarded to its owner (CallForwarder), whose audit trail records it. */
export function handedToOwner(metadata: Metadata | undefined): boolean {
  return !!metadata && handedOver.has(metadata);
}

/** Marks a call as forwarded to its owner. */
export function markHandedToOwner(metadata: Metadata | undefined): void {
  if (metadata) handedOver.add(metadata);
}

export function isForwarded(metadata: Metadata | undefined): boolean {
  return !!metadata && metadata.get(FORWARDED_BY).length > 0;
}

/**
 * Metadata for a call to a peer on behalf of the caller: the caller's own `authorization` (the owner
 * checks the same token, with the same scopes, as if the caller had come to it), its request id, and
 * FORWARDED_BY = this replica.
 */
export function forwardedMetadata(incoming: Metadata | undefined, self: string): Metadata {
  const md = new Metadata();
  for (const key of PASSED_ON) for (const v of incoming?.get(key) ?? []) md.add(key, v);
  md.set(FORWARDED_BY, self);
  return md;
}
