import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import Docker from 'dockerode';
import type { Logger } from '../../common/logger';
import { DOCKER_CLIENT, EXEC_CONFIG, LIFECYCLE_PUBLISHER, ROOT_LOGGER } from '../../common/tokens';
import type { ExecConfig } from '../../common/config/exec-config';
import { HEALTH_PROBLEM, HealthState } from '../../common/health-state';
import type { ContainerEventsSource } from '../container-events';
import type { LifecyclePublisher } from '../lifecycle-publisher';
import { dockerEventKey, lifecycleFromDocker, type DockerEventMessage } from './docker-event-mapping';
import type { LifecycleEvent, StatusAfter } from '../../lifecycle/lifecycle-event';
import { dockerMessage } from './docker-errors';
import { JsonLines } from './json-lines';
import { isManaged, LABEL_SESSION, managedFilter } from './labels';
import { BoundedMap, BoundedSet } from '../../common/bounded';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;
const SEEN_KEYS = 2048;
/** Longest that bootstrap (hence listening) waits for the first connection attempt's outcome. */
const FIRST_CONNECT_WAIT_MS = 5000;

/**
 * Docker's /events for this instance's containers (labels managed and replica = EXEC_REPLICA_ID), published
 * to the lifecycle bus (source 'docker'); other instances' containers never reach the bus (CONTAINER_EVENTS).
 *
 * The connection is one long HTTP response of newline-delimited JSON, parsed with JsonLines. When it
 * ends (daemon restart, socket closed) the bus gets one `events_disconnected`; the source retries with
 * backoff (100 ms doubling to 2 s) and on success publishes `events_reconnected`; subscribers' calls go
 * on throughout. A reconnect asks Docker for the events since the last one seen (`since`), which covers
 * a dropped connection to a daemon that kept running; the events replayed at that boundary are skipped
 * by key. A restarted daemon has no memory of earlier events, so after reconnecting the source also
 * compares every managed container it believed created/running/paused with what Docker says now and
 * publishes the transitions it missed (exited with the code, destroyed).
 *
 * Health: Docker counts as unreachable (HEALTH_PROBLEM.docker, NOT_SERVING) from construction until the
 * first connection, and from each lost connection until the next; bootstrap waits (bounded) for the
 * first attempt, so the first health answer after listening is already Docker's.
 */
@Injectable()
export class DockerEventsSource implements ContainerEventsSource, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private stream?: NodeJS.ReadableStream & { destroy?: () => void };
  private stopped = false;
  private connected = false;
  private everConnected = false;
  private disconnectedAt?: number;
  private retryMs = RETRY_MIN_MS;
  private timer?: NodeJS.Timeout;
  private lastEventTime?: string;
  /** Keys of the newest Docker events handled: the same event replayed by `since` after a reconnect is skipped. */
  private readonly seen = new BoundedSet<string>(SEEN_KEYS);
  /**
   * The transitions the last publishMissedTransitions published (container:type) and when that reconnect was: the
   * same transition replayed by `since` afterwards is not published again (both are source docker, so
   * the bus's dedupe, which merges only different sources, would keep both).
   */
  private readonly publishedOnReconnect = new Set<string>();
  private reconnectedAtMs = 0;
  /** Last status the bus reported per managed container (from every source, the newest 10,000): what a reconnect compares Docker's states with. */
  private readonly known = new BoundedMap<string, { status: StatusAfter; sessionId?: string }>(10_000);
  private unsubscribe?: () => void;
  private readonly reconnectListeners = new Set<() => void>();
  private firstOutcome?: () => void;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(ROOT_LOGGER) root: Logger,
    @Inject(LIFECYCLE_PUBLISHER) private readonly bus: LifecyclePublisher,
    @Inject(EXEC_CONFIG) private readonly config: ExecConfig,
    private readonly health: HealthState,
  ) {
    this.log = root.child({ component: 'docker-events' });
    this.health.set(HEALTH_PROBLEM.docker, 'not yet connected to Docker');
  }

  onApplicationBootstrap(): Promise<void> {
    const sub = this.bus.subscribe((e) => this.track(e));
    this.unsubscribe = () => sub.unsubscribe();
    const first = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(FIRST_CONNECT_WAIT_MS, this.config.EXEC_DOCKER_TIMEOUT_MS));
      this.firstOutcome = () => (clearTimeout(timer), resolve());
    });
    this.connect();
    return first;
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.stream?.destroy?.();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  onReconnected(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  private connect(): void {
    if (this.stopped) return;
    const filters = { type: ['container'], label: managedFilter(this.config.EXEC_REPLICA_ID) };
    const opts: Record<string, unknown> = { filters };
    if (this.lastEventTime) opts.since = this.lastEventTime;
    this.docker.getEvents(opts, (err, stream) => {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- dockerode types the stream as NodeJS.ReadableStream, which has no destroy()
      if (this.stopped) return (stream as typeof this.stream)?.destroy?.();
      if (err || !stream) return this.lost(err ? dockerMessage(err) : 'no stream');
      this.stream = stream;
      const parser = new JsonLines(
        (value) => this.onDockerEvent(value as DockerEventMessage),
        (line, e) => this.log.warn({ line: line.slice(0, 200), err: e.message }, 'unreadable Docker event skipped'),
      );
      let ended = false;
      const end = (why: string) => {
        if (ended) return;
        ended = true;
        if (parser.buffered) this.log.warn({ bytes: parser.buffered }, 'events stream ended inside an event');
        if (this.stream === stream) this.stream = undefined;
        this.lost(why);
      };
      stream.on('data', (b: Buffer) => parser.push(b));
      stream.on('end', () => end('events stream ended'));
      stream.on('close', () => end('events stream closed'));
      stream.on('error', (e: Error) => end(e.message));
      this.up();
    });
  }

  private up(): void {
    this.connected = true;
    if (this.health.set(HEALTH_PROBLEM.docker)) this.log.info('Docker answers: health is SERVING unless another problem stands');
    this.firstOutcome?.();
    this.retryMs = RETRY_MIN_MS;
    if (!this.everConnected) {
      this.everConnected = true;
      this.log.info('listening to Docker events');
      return;
    }
    this.publishedOnReconnect.clear();
    this.reconnectedAtMs = Date.now();
    const downMs = this.disconnectedAt ? Date.now() - this.disconnectedAt : 0;
    this.disconnectedAt = undefined;
    this.log.warn({ downMs }, 'Docker events reconnected');
    this.bus.publish({
      containerId: '',
      type: 'events_reconnected',
      status: '',
      source: 'service',
      message: `reconnected to Docker events after ${downMs} ms; transitions missed meanwhile follow as reconciled events`,
    });
    for (const listener of this.reconnectListeners) {
      try {
        listener();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'a reconnect listener failed');
      }
    }
    void this.publishMissedTransitions();
  }

  private lost(why: string): void {
    if (this.stopped) return;
    if (this.health.set(HEALTH_PROBLEM.docker, `Docker unreachable: ${why}`)) this.log.warn({ why }, 'Docker unreachable: health is NOT_SERVING');
    this.firstOutcome?.();
    if (this.connected) {
      // Once per outage, however many reconnect attempts fail.
      this.connected = false;
      this.disconnectedAt = Date.now();
      this.log.warn({ why }, 'Docker events connection lost; reconnecting');
      this.bus.publish({
        containerId: '',
        type: 'events_disconnected',
        status: '',
        source: 'service',
        message: `lost the Docker events connection (${why}); reconnecting`,
      });
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private onDockerEvent(msg: DockerEventMessage): void {
    const key = dockerEventKey(msg);
    if (this.seen.has(key)) return; // replayed by `since` after a reconnect
    this.seen.add(key);
    if (msg.timeNano) this.lastEventTime = nanoToSince(msg.timeNano);
    else if (msg.time) this.lastEventTime = String(msg.time);
    if (!isManaged(msg.Actor?.Attributes, this.config.EXEC_REPLICA_ID)) return;
    const event = lifecycleFromDocker(msg);
    if (!event) return;
    const atMs = msg.timeNano ? msg.timeNano / 1e6 : (msg.time ?? 0) * 1000;
    if (atMs <= this.reconnectedAtMs && this.publishedOnReconnect.delete(`${event.containerId}:${event.type}`)) return; // published by publishMissedTransitions
    this.bus.publish(event);
  }

  private track(e: Pick<LifecycleEvent, 'containerId' | 'type' | 'status' | 'sessionId'>): void {
    if (!e.containerId) return;
    if (e.type === 'destroyed' || e.type === 'unregistered') {
      this.known.delete(e.containerId);
      return;
    }
    if (!e.status) return;
    this.known.set(e.containerId, { status: e.status, sessionId: e.sessionId ?? this.known.get(e.containerId)?.sessionId });
  }

  /** After a reconnect: publish what Docker's state says happened while we were not listening. */
  private async publishMissedTransitions(): Promise<void> {
    try {
      const list = await this.docker.listContainers({ all: true, filters: { label: managedFilter(this.config.EXEC_REPLICA_ID) } });
      const byId = new Map(list.map((c) => [c.Id, c]));
      for (const [id, was] of [...this.known]) {
        if (!['created', 'running', 'paused'].includes(was.status)) continue;
        const now = byId.get(id);
        const sessionId = was.sessionId ?? now?.Labels?.[LABEL_SESSION];
        if (!now) {
          this.publishMissed({
            containerId: id,
            type: 'destroyed',
            status: 'removed',
            source: 'docker',
            sessionId,
            message: 'found removed after the events reconnect',
          });
        } else if (now.State === 'exited' || now.State === 'dead') {
          const code = /\((-?\d+)\)/.exec(now.Status ?? '');
          this.publishMissed({
            containerId: id,
            type: 'exited',
            status: 'exited',
            source: 'docker',
            sessionId,
            exitCode: code ? Number(code[1]) : undefined,
            message: 'found exited after the events reconnect',
          });
        } else if (now.State !== was.status && (now.State === 'running' || now.State === 'paused')) {
          this.publishMissed({
            containerId: id,
            type: now.State === 'paused' ? 'paused' : was.status === 'paused' ? 'resumed' : 'started',
            status: now.State,
            source: 'docker',
            sessionId,
            message: 'found in this state after the events reconnect',
          });
        }
      }
    } catch (err) {
      this.log.warn({ err: dockerMessage(err) }, 'could not reconcile container states after reconnect');
    }
  }

  private publishMissed(event: Parameters<LifecyclePublisher['publish']>[0]): void {
    this.publishedOnReconnect.add(`${event.containerId}:${event.type}`);
    this.bus.publish(event);
  }
}

/** Docker's `since` takes seconds with a fractional part. */
function nanoToSince(timeNano: number): string {
  const s = Math.floor(timeNano / 1e9);
  const frac = Math.max(0, Math.round(timeNano - s * 1e9));
  return `${s}.${String(frac).padStart(9, '0')}`;
}
