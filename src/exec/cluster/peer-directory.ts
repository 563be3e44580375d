import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import type { ExecConfig } from '../../common/config/exec-config';
import type { Logger } from '../../common/logger';
import { EXEC_CONFIG, ROOT_LOGGER } from '../../common/tokens';
import { REPLICA_ID } from '../../common/patterns';

/** An unknown replica triggers at most one DNS lookup per this many ms (shared by the callers meanwhile). */
const ON_DEMAND_INTERVAL_MS = 1_000;
/** How long start-up waits for the first DNS answer before serving with the static peers only. */
const FIRST_ANSWER_WAIT_MS = 2_000;
/** Answers that mean "no such name / no records": no peers, not a failure. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * The replica id of an SRV target: its first label, lower-cased (Kubernetes names a StatefulSet pod behind
 * a headless Service `<pod>.<service>.<ns>.svc.cluster.local`, and the pod name is EXEC_REPLICA_ID);
 * undefined when that label is no DNS-1123 label.
 */
export function replicaIdOfTarget(target: string): string | undefined {
  const label = target.split('.')[0].toLowerCase();
  return REPLICA_ID.test(label) ? label : undefined;
}

/**
 * The other replicas of this cluster and their gRPC addresses: EXEC_PEERS, united with what the SRV
 * name EXEC_PEERS_DNS answered last (DNS wins for an id in both), re-resolved every
 * EXEC_PEERS_REFRESH_MS. A failed resolution keeps the previous answer.
 */
@Injectable()
export class PeerDirectory implements OnModuleInit, OnModuleDestroy {
  /** This replica's id (EXEC_REPLICA_ID); never among peers(). */
  readonly self: string;
  private readonly log: Logger;
  private readonly staticPeers: Map<string, string>;
  private readonly srvName: string;
  private readonly resolver = new dns.Resolver({ timeout: 1_000, tries: 2 });
  private dnsPeers = new Map<string, string>();
  private merged: ReadonlyMap<string, string>;
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private onDemand?: Promise<void>;
  private onDemandAt = 0;
  private lastError?: string;
  private timer?: NodeJS.Timeout;
  private destroyed = false;

  constructor(
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.self = config.EXEC_REPLICA_ID;
    this.log = root.child({ component: 'peer-directory' });
    // Every replica may be given the same list: its own entry is left out.
    this.staticPeers = new Map([...config.peers].filter(([id]) => id !== this.self));
    this.srvName = config.EXEC_PEERS_DNS ?? '';
    if (config.EXEC_DNS_SERVER) this.resolver.setServers([config.EXEC_DNS_SERVER]);
    this.merged = new Map();
    this.update();
  }

  /** Resolves EXEC_PEERS_DNS once (waiting at most FIRST_ANSWER_WAIT_MS), then every EXEC_PEERS_REFRESH_MS. */
  async onModuleInit(): Promise<void> {
    if (!this.srvName) return;
    this.timer = setInterval(() => void this.refresh(), this.config.EXEC_PEERS_REFRESH_MS);
    this.timer.unref();
    let wait: NodeJS.Timeout | undefined;
    await Promise.race([this.refresh(), new Promise((resolve) => (wait = setTimeout(resolve, FIRST_ANSWER_WAIT_MS)))]);
    clearTimeout(wait);
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    clearInterval(this.timer);
    this.resolver.cancel();
  }

  /** Replica id → "host:port" of every known peer (never self). */
  peers(): ReadonlyMap<string, string> {
    return this.merged;
  }

  /** The address of replica `id`; when unknown, resolves DNS again (at most once a second, shared) and looks again. */
  async addressOf(id: string): Promise<string | undefined> {
    const known = this.merged.get(id);
    if (known !== undefined || !this.srvName || id === this.self) return known;
    if (Date.now() - this.onDemandAt >= ON_DEMAND_INTERVAL_MS) {
      this.onDemandAt = Date.now();
      this.onDemand = this.refresh();
    }
    await this.onDemand;
    return this.merged.get(id);
  }

  /** Resolves EXEC_PEERS_DNS now; a call while one runs gets one more resolution after it (shared). Never rejects. */
  refresh(): Promise<void> {
    if (!this.srvName) return Promise.resolve();
    if (!this.running) {
      this.running = this.resolveOnce().finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.refresh();
    });
    return this.queued;
  }

  private async resolveOnce(): Promise<void> {
    let answer: Map<string, string>;
    try {
      answer = await this.resolve();
    } catch (err) {
      if (this.destroyed) return;
      const problem = `${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message}`.trim();
      if (problem !== this.lastError) this.log.warn({ srv: this.srvName, err: problem }, `peers: resolving ${this.srvName} failed; keeping the previous peers`);
      this.lastError = problem;
      return;
    }
    if (this.lastError) this.log.info({ srv: this.srvName }, `peers: ${this.srvName} resolves again`);
    this.lastError = undefined;
    this.dnsPeers = answer;
    this.update();
  }

  /** The SRV targets (but self) as replica id → "ipv4:port"; a target without an A record is left out. */
  private async resolve(): Promise<Map<string, string>> {
    let records: Array<{ name: string; port: number }>;
    try {
      records = await this.resolver.resolveSrv(this.srvName);
    } catch (err) {
      if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return new Map();
      throw err;
    }
    const found = await Promise.all(
      records.map(async ({ name, port }) => {
        const id = replicaIdOfTarget(name);
        if (!id || id === this.self) return undefined;
        try {
          const [ip] = await this.resolver.resolve4(name);
          return ip ? ([id, `${ip}:${port}`] as const) : undefined;
        } catch (err) {
          if (NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
          throw err;
        }
      }),
    );
    const peers = new Map<string, string>();
    for (const entry of found) if (entry && !peers.has(entry[0])) peers.set(entry[0], entry[1]);
    return peers;
  }

  /** Recomputes peers() (sorted by id) and logs it when it changed. */
  private update(): void {
    const all = new Map([...this.staticPeers, ...this.dnsPeers]);
    const next = new Map([...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const before = describe(this.merged);
    const after = describe(next);
    this.merged = next;
    if (after !== before) this.log.info({ self: this.self, peers: Object.fromEntries(next) }, `peers: ${after || 'none'}`);
  }
}

function describe(peers: ReadonlyMap<string, string>): string {
  return [...peers].map(([id, address]) => `${id}=${address}`).join(', ');
}
