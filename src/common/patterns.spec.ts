import { PEER_ENTRY } from './config/peer-list';
import { REPLICA_ID } from './patterns';

describe('a replica id (DNS-1123 label)', () => {
  it.each(['a', 'es-a', '0', 'a'.repeat(63), 'exec-stream-7d9f8b6c4-x2x9z'])('accepts %s', (id) => expect(REPLICA_ID.test(id)).toBe(true));
  it.each(['', '-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(64), 'é'])('refuses %j', (id) => expect(REPLICA_ID.test(id)).toBe(false));
  it('is the id of an EXEC_PEERS entry too', () => {
    expect(PEER_ENTRY.exec('es-b=10.0.0.2:50051')?.slice(1)).toEqual(['es-b', '10.0.0.2:50051']);
    expect(PEER_ENTRY.test(`${'b'.repeat(64)}=h:1`)).toBe(false);
  });
});
