/**
 * Naming rules written once. A replica id is a DNS-1123 label (1–63 of a-z, 0-9 and '-', starting and
 * ending with a letter or digit), as a pod's name is: EXEC_REPLICA_ID, the ids of EXEC_PEERS and of
 * DNS-found peers, the `R.` of a session id `R.<uuid>`, the `R:` of an audit event id `R:<seq>`.
 */

/** A DNS-1123 label as a regular expression's source: no anchors, no capturing group (compose it). */
export const DNS_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';

/** A whole replica id. */
export const REPLICA_ID = new RegExp(`^${DNS_LABEL}$`);
