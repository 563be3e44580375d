import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config/exec-config';
import { createRootLogger } from '../../common/logger';
import type { PeerDirectory } from './peer-directory';
import { RequestIdHome } from './request-id-home';

/** A directory whose peers the test sets. */
function directory(self: string, peers: string[]) {
  return { self, peers: () => new Map(peers.map((p) => [p, `${p}:50051`])) } as unknown as PeerDirectory & { peers(): Map<string, string> };
}

describe('RequestIdHome', () => {
  const ids = Array.from({ length: 300 }, (_, i) => `job-${i}`);
  const make = (self: string, peers: string[], dataDir: string, retention = '900') =>
    new RequestIdHome(
      directory(self, peers),
      loadConfig({ EXEC_REPLICA_ID: self, EXEC_DATA_DIR: dataDir, EXEC_RETENTION_SECONDS: retention }),
      createRootLogger('silent'),
    );

  it('every replica names the same home for an id, and the ids spread over all of them', () => {
    const a = make('es-a', ['es-b', 'es-c'], mkdtempSync(join(tmpdir(), 'home-')));
    const b = make('es-b', ['es-a', 'es-c'], mkdtempSync(join(tmpdir(), 'home-')));
    const c = make('es-c', ['es-a', 'es-b'], mkdtempSync(join(tmpdir(), 'home-')));
    const homes = ids.map((id) => a.of(id));
    expect(ids.map((id) => b.of(id))).toEqual(homes);
    expect(ids.map((id) => c.of(id))).toEqual(homes);
    for (const r of ['es-a', 'es-b', 'es-c']) expect(homes.filter((h) => h === r).length).toBeGreaterThan(60);
  });

  it('a replica that left the peers (restarting) keeps its ids: they never move to one that would run them again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'home-'));
    const peers = ['es-b', 'es-c'];
    const d = directory('es-a', peers);
    const a = new RequestIdHome(d, loadConfig({ EXEC_REPLICA_ID: 'es-a', EXEC_DATA_DIR: dir }), createRootLogger('silent'));
    const before = ids.map((id) => a.of(id));
    peers.pop(); // es-c is down
    expect(ids.map((id) => a.of(id))).toEqual(before);
    // A restart of es-a while es-c is down still knows es-c (replicas.json).
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'replicas.json'), 'utf8')))).toEqual(['es-b', 'es-c']);
    const again = make('es-a', ['es-b'], dir);
    expect(ids.map((id) => again.of(id))).toEqual(before);
  });

  it('a replica unseen for longer than EXEC_RETENTION_SECONDS stops being a member', () => {
    const dir = mkdtempSync(join(tmpdir(), 'home-'));
    const peers = ['es-b', 'es-c'];
    const a = new RequestIdHome(
      directory('es-a', peers),
      loadConfig({ EXEC_REPLICA_ID: 'es-a', EXEC_DATA_DIR: dir, EXEC_RETENTION_SECONDS: '60' }),
      createRootLogger('silent'),
    );
    expect(ids.some((id) => a.of(id) === 'es-c')).toBe(true);
    peers.pop();
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect(ids.some((id) => a.of(id) === 'es-c')).toBe(false);
    } finally {
      jest.restoreAllMocks();
    }
  });
});
