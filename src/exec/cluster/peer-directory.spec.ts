import { createRootLogger } from '../../common/logger';
import { loadConfig } from '../../common/config/exec-config';
import { parseStaticPeers, PeerDirectory, replicaIdOfTarget } from './peer-directory';

describe('parseStaticPeers', () => {
  it('maps each id to its host:port, in any host form', () => {
    expect(parseStaticPeers('es-a=10.0.0.1:50051, es-b=exec-b.ns.svc:7000,es-c=[fd00::1]:50051')).toEqual(
      new Map([
        ['es-a', '10.0.0.1:50051'],
        ['es-b', 'exec-b.ns.svc:7000'],
        ['es-c', '[fd00::1]:50051'],
      ]),
    );
  });

  it('takes replica ids that are JavaScript object keys (constructor) as ordinary ids', () => {
    expect([...parseStaticPeers('constructor=h:1,es-b=h:2')]).toEqual([
      ['constructor', 'h:1'],
      ['es-b', 'h:2'],
    ]);
    expect([...parseStaticPeers('constructor=h:1,es-b=h:2', 'constructor').keys()]).toEqual(['es-b']);
  });

  it('leaves out this replica, so every replica can be given the same list', () => {
    expect([...parseStaticPeers('es-a=h:1,es-b=h:2', 'es-a').keys()]).toEqual(['es-b']);
  });

  it('reads an empty list as no peers and refuses an entry that is not id=host:port', () => {
    expect(parseStaticPeers('').size).toBe(0);
    expect(() => parseStaticPeers('es-a=h:1,es-b')).toThrow(/"es-b"/);
    expect(() => parseStaticPeers('ES=h:1')).toThrow(/"ES=h:1"/);
  });
});

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
});
