import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildService, childService, type ChildService } from './child-service';
import { engine } from './engine-async';
import { freePort } from './free-port';

const run = promisify(execFile);
const DNS_SCRIPT = join(__dirname, '..', '..', 'scripts', 'dns-server.sh');

/** The headless "Service" of the test cluster: replica R is `R.<CLUSTER_DOMAIN>`, all are listed by CLUSTER_SRV. */
export const CLUSTER_DOMAIN = 'exec-headless.cluster.test';
export const CLUSTER_SRV = `_grpc._tcp.${CLUSTER_DOMAIN}`;
/**
 * The dnsmasq (scripts/dns-server.sh NAME) a cluster of these replica ids publishes through: one per
 * set of ids, so two files' clusters (their ids differ) run side by side, each with its own.
 */
export function clusterDnsName(ids: string[]): string {
  return `cl-${ids.join('-')}`.slice(0, 31).replace(/-+$/, '');
}
/** The longest one step of Cluster.dispose() may take (a hung engine stop must not hang the suite). */
const DISPOSE_STEP_MS = 45_000;

export interface Cluster {
  /** Replica id → the running service (EXEC_REPLICA_ID = the id), each beside its own engine. */
  replicas: Record<string, ChildService>;
  /** Replica id → its engine's DOCKER_HOST (unix:///run/exec-stream-cl-<id>/docker.sock). */
  engines: Record<string, string>;
  /** Replica id → its gRPC port on 127.0.0.1 (what its SRV record says). */
  ports: Record<string, number>;
  /** The dnsmasq's port on 127.0.0.1 (EXEC_DNS_SERVER = 127.0.0.1:<dnsPort>). */
  dnsPort: number;
  /** Its name for scripts/dns-server.sh (clusterDnsName of the ids). */
  dnsName: string;
  /** Publishes SRV + A records for these replicas only (default: all) by restarting dnsmasq with a new conf. */
  publish(ids?: string[]): Promise<void>;
  /** Stops the services, dnsmasq and the engines (their containers of the replicas removed first); each step bounded. */
  dispose(): Promise<void>;
}

/** A dnsmasq conf listing each replica under CLUSTER_SRV, as Kubernetes does for a headless Service's pods. */
export function clusterDnsConf(ports: Record<string, number>): string {
  const lines: string[] = [];
  for (const [id, port] of Object.entries(ports)) {
    lines.push(`srv-host=${CLUSTER_SRV},${id}.${CLUSTER_DOMAIN},${port},0,0`, `host-record=${id}.${CLUSTER_DOMAIN},127.0.0.1`);
  }
  return lines.join('\n') + '\n';
}

/** scripts/dns-server.sh NAME start PORT CONF | stop, without blocking the event loop. */
export async function dnsServer(name: string, cmd: 'start' | 'stop', port?: number, conf?: string): Promise<void> {
  await run('bash', [DNS_SCRIPT, name, cmd, ...(cmd === 'start' ? [String(port), String(conf)] : [])], { encoding: 'utf8' });
}

/** The engine of replica `id` (scripts/docker-engine.sh NAME). */
export function clusterEngineName(id: string): string {
  return `cl-${id}`;
}

/**
 * Starts a cluster on this machine: per replica id a Docker engine of its own and the built service
 * (dist/, built here) as a child process, all finding each other through a dnsmasq that serves
 * CLUSTER_SRV (EXEC_PEERS_DNS, EXEC_DNS_SERVER, EXEC_PEERS_REFRESH_MS=500). `env` goes to every replica.
 * Resolves once every replica listens; on a failure, what was started is stopped again.
 */
export async function startCluster(ids: string[] = ['es-a', 'es-b', 'es-c'], env: Record<string, string> = {}): Promise<Cluster> {
  buildService();
  const confDir = mkdtempSync(join(tmpdir(), 'exec-stream-cluster-'));
  const confFile = join(confDir, 'dnsmasq.conf');
  const ports: Record<string, number> = {};
  for (const id of ids) ports[id] = await freePort();
  const dnsPort = await freePort();
  const dnsName = clusterDnsName(ids);
  const engines: Record<string, string> = {};
  const replicas: Record<string, ChildService> = {};
  let dnsStarted = false;

  const cluster: Cluster = {
    replicas,
    engines,
    ports,
    dnsPort,
    dnsName,
    async publish(only = ids) {
      writeFileSync(confFile, clusterDnsConf(Object.fromEntries(only.map((id) => [id, ports[id]]))));
      await dnsServer(dnsName, 'start', dnsPort, confFile);
      dnsStarted = true;
    },
    async dispose() {
      await Promise.all(Object.values(replicas).map((svc) => bounded(`replica ${svc.address} dispose`, svc.dispose())));
      await Promise.all([
        dnsStarted ? bounded('dnsmasq stop', dnsServer(dnsName, 'stop')) : undefined,
        ...Object.entries(engines).map(([id, host]) =>
          bounded(
            `engine ${clusterEngineName(id)} stop`,
            removeReplicaContainers(host, id)
              .catch(() => undefined)
              .then(() => engine(clusterEngineName(id), 'stop')),
          ),
        ),
      ]);
      rmSync(confDir, { recursive: true, force: true });
    },
  };

  try {
    await settled(
      ids.map(async (id) => {
        engines[id] = await engine(clusterEngineName(id), 'socket');
        await engine(clusterEngineName(id), 'start');
      }),
    );
    await cluster.publish();
    await settled(
      ids.map(async (id) => {
        const svc = await childService(
          {
            EXEC_REPLICA_ID: id,
            DOCKER_HOST: engines[id],
            EXEC_PEERS_DNS: CLUSTER_SRV,
            EXEC_DNS_SERVER: `127.0.0.1:${dnsPort}`,
            EXEC_PEERS_REFRESH_MS: '500',
            ...env,
          },
          { port: ports[id] },
        );
        replicas[id] = svc;
        await svc.start();
      }),
    );
  } catch (err) {
    await cluster.dispose().catch(() => undefined);
    throw err;
  }
  return cluster;
}

/** Waits for all of `steps` (none is left running behind a failure), then throws the first failure. */
async function settled(steps: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Removes the containers replica `id` made on its engine (they would be re-adopted by the next cluster's replica `id`). */
async function removeReplicaContainers(host: string, id: string): Promise<void> {
  const { stdout } = await run('docker', ['-H', host, 'ps', '-aq', '--filter', `label=exec-stream.replica=${id}`], { encoding: 'utf8' });
  const containers = stdout.split('\n').filter(Boolean);
  if (containers.length) await run('docker', ['-H', host, 'rm', '-f', '-v', ...containers]);
}

/** Waits for `step` at most DISPOSE_STEP_MS; a failure or a timeout is reported on stderr, not thrown (cleanup goes on). */
async function bounded(what: string, step: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      step,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`not done within ${DISPOSE_STEP_MS} ms`)), DISPOSE_STEP_MS))),
    ]);
  } catch (err) {
    process.stderr.write(`[cluster] ${what} failed: ${(err as Error).message}\n`);
  } finally {
    clearTimeout(timer);
  }
}
