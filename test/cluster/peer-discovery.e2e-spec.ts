// Peer discovery through real DNS: three replicas (each beside its own engine) published by a dnsmasq on
// loopback as a headless Service's SRV and A records; each replica finds the other two, and a PeerDirectory
// of this process follows the records as they change.
import pino from 'pino';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/common/config/exec-config';
import { PeerDirectory } from '../../src/exec/cluster/peer-directory';
import { waitUntil } from '../support/conditions';
import { CLUSTER_DNS_NAME, CLUSTER_SRV, dnsServer, startCluster, type Cluster } from '../support/cluster';

let cluster: Cluster;
const IDS = ['es-a', 'es-b', 'es-c'];

beforeAll(async () => {
  cluster = await startCluster(IDS);
}, 300_000);
afterAll(async () => {
  await cluster?.dispose();
}, 120_000);

/** id → 127.0.0.1:port of the given replicas, as the SRV and A records publish them. */
const addresses = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, `127.0.0.1:${cluster.ports[id]}`]));

/** The `peers` of each "peers: …" line replica `id` logged, oldest first. */
const peerLines = (id: string) =>
  cluster.replicas[id].logs.filter((l) => l.component === 'peer-directory' && typeof l.peers === 'object').map((l) => l.peers as Record<string, string>);

/** A PeerDirectory of this process resolving the cluster's dnsmasq, with its log lines collected. */
function directory(self: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({ EXEC_REPLICA_ID: self, EXEC_PEERS_DNS: CLUSTER_SRV, EXEC_DNS_SERVER: `127.0.0.1:${cluster.dnsPort}` });
  return { dir: new PeerDirectory(config, pino({ level: 'info' }, sink)), lines };
}

it('each replica finds the other two, with the addresses the SRV and A records give', async () => {
  for (const id of IDS) {
    const others = IDS.filter((x) => x !== id);
    await waitUntil(`${id} logs its peers ${others.join(', ')}`, () => peerLines(id).length > 0, 10_000);
    expect({ id, peers: peerLines(id).at(-1) }).toEqual({ id, peers: addresses(others) });
  }
});

it('a PeerDirectory resolves the three, leaves out itself, and drops a replica once DNS no longer lists it', async () => {
  const probe = directory('probe');
  const asA = directory('es-a');
  try {
    await Promise.all([probe.dir.refresh(), asA.dir.refresh()]);
    expect(Object.fromEntries(probe.dir.peers())).toEqual(addresses(IDS));
    expect(Object.fromEntries(asA.dir.peers())).toEqual(addresses(['es-b', 'es-c']));
    expect(probe.lines.filter((l) => l.peers).map((l) => l.msg)).toEqual([
      `peers: es-a=127.0.0.1:${cluster.ports['es-a']}, es-b=127.0.0.1:${cluster.ports['es-b']}, es-c=127.0.0.1:${cluster.ports['es-c']}`,
    ]);

    await cluster.publish(['es-a', 'es-b']);
    await probe.dir.refresh();
    expect(Object.fromEntries(probe.dir.peers())).toEqual(addresses(['es-a', 'es-b']));
    // The replicas follow too (EXEC_PEERS_REFRESH_MS=500): A now knows only B.
    await waitUntil('es-a logs es-b as its only peer', () => JSON.stringify(peerLines('es-a').at(-1)) === JSON.stringify(addresses(['es-b'])), 10_000);

    // Listed again: an unknown id is looked up on demand (no timer runs here).
    await cluster.publish();
    expect(await probe.dir.addressOf('es-c')).toBe(`127.0.0.1:${cluster.ports['es-c']}`);
    expect(await probe.dir.addressOf('es-z')).toBeUndefined();
  } finally {
    await cluster.publish();
    probe.dir.onModuleDestroy();
    asA.dir.onModuleDestroy();
  }
});

it('while DNS does not answer, the previous peers are kept and one warning is logged', async () => {
  const probe = directory('probe');
  try {
    await probe.dir.refresh();
    expect([...probe.dir.peers().keys()]).toEqual(IDS);
    await dnsServer(CLUSTER_DNS_NAME, 'stop');
    await probe.dir.refresh();
    await probe.dir.refresh();
    expect(Object.fromEntries(probe.dir.peers())).toEqual(addresses(IDS));
    const warnings = probe.lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toContain(`resolving ${CLUSTER_SRV} failed; keeping the previous peers`);
  } finally {
    await cluster.publish();
    probe.dir.onModuleDestroy();
  }
});
