import { Metadata } from '@grpc/grpc-js';

/**
 * Set on every call one replica makes to another, to the caller's replica id. A call carrying it is
 * answered from the receiving replica's own sessions and engine: it is never forwarded again (no loops,
 * no fan-out of a fan-out).
 */
export const FORWARDED_BY = 'x-exec-forwarded-by';

/** What a forwarded call carries of the caller's metadata: its credentials and its ids for the logs. */
const PASSED_ON = ['authorization', 'x-request-id', 'traceparent'];

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
