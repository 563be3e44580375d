import { DNS_LABEL } from '../patterns';

/** One EXEC_PEERS entry: `id=host:port`, id a DNS-1123 label, host a name, IPv4 or [IPv6]. */
export const PEER_ENTRY = new RegExp(`^(${DNS_LABEL})=((?:\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):\\d{1,5})$`);

/** EXEC_PEERS as replica id → host:port ('' = none); throws an Error naming its first bad or repeated entry. */
export function parsePeerList(value: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (!entry && !value.trim()) continue;
    const m = PEER_ENTRY.exec(entry);
    if (!m) throw new Error(`EXEC_PEERS entry ${JSON.stringify(entry)} is not id=host:port (id a DNS-1123 label: a-z, 0-9 and -, ≤ 63)`);
    if (peers.has(m[1])) throw new Error(`EXEC_PEERS names replica ${m[1]} twice`);
    peers.set(m[1], m[2]);
  }
  return peers;
}

/** Why an EXEC_PEERS value is refused; undefined when it is good. */
export function peerListProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'EXEC_PEERS must be a string';
  try {
    parsePeerList(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
