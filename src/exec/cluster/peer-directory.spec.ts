import { createRootLogger } from '../../common/logger';
import { loadConfig } from '../../common/config/exec-config';
import { PeerDirectory, replicaIdOfTarget } from './peer-directory';

describe('replicaIdOfTarget', () => {
  it('is the first label of the SRV target (the pod name behind a headless Service)', () => {
    expect(replicaIdOfTarget('exec-stream-0.exec-stream-headless.default.svc.cluster.local')).toBe('exec-stream-0');
    expect(replicaIdOfTarget('Es-B.exec-headless.cluster.test')).toBe('es-b');
    expect(replicaIdOfTarget('es-c')).toBe('es-c');
  });

  it('is undefined when the first label is no DNS-1123 label', () => {
    expect(replicaIdOfTarget('_grpc._tcp.x.test')).toBeUndefined();
    expect(replicaIdOfTarget('-a.x.test')).toBeUndefined();
    expect(replicaIdOfTarget(`${'x'.repeat(64)}.x.test`)).toBeUndefined();
    expect(replicaIdOfTarget('')).toBeUndefined();
  });
});

describe('PeerDirectory without DNS', () => {
  const logger = createRootLogger('silent');

  it('knows the static peers but itself, and resolves nothing for an unknown id', async () => {
    const dir = new PeerDirectory(loadConfig({ EXEC_REPLICA_ID: 'es-a', EXEC_PEERS: 'es-a=127.0.0.1:1,es-b=127.0.0.1:2' }), logger);
    expect(dir.self).toBe('es-a');
    expect([...dir.peers()]).toEqual([['es-b', '127.0.0.1:2']]);
    expect(await dir.addressOf('es-b')).toBe('127.0.0.1:2');
    expect(await dir.addressOf('es-z')).toBeUndefined();
    await dir.onModuleInit();
    dir.onModuleDestroy();
  });

  it('leaves out this replica, so every replica can be given the same list', () => {
    const peersOf = (self: string, list: string) => [...new PeerDirectory(loadConfig({ EXEC_REPLICA_ID: self, EXEC_PEERS: list }), logger).peers().keys()];
    expect(peersOf('es-a', 'es-a=h:1,es-b=h:2')).toEqual(['es-b']);
    // A replica id that is a JavaScript object key is an ordinary id.
    expect(peersOf('constructor', 'constructor=h:1,es-b=h:2')).toEqual(['es-b']);
  });
});
