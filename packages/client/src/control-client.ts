import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type {
  ContainerControlResponse__Output,
  ContainerLifecycleEvent__Output,
  ContainerLifecycleRequest,
  ContainerStatusResponse__Output,
  ListSessionsRequest,
  ListSessionsResponse__Output,
  ResourceUsage__Output,
} from './gen';
import type { GRPCConnectionManager } from './grpc-connection-manager';

/** snake_case → camelCase, at the type level: the client's views are the generated wire types renamed. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
/** Every field of a wire message, camelCased and present (proto3 zero values filled in). */
type Camelized<T> = { [K in keyof T & string as CamelCase<K>]-?: Exclude<T[K], undefined> };

/**
 * One ContainerLifecycle event as the client sees it: the wire message with every field present,
 * `event_type` as `type`, `timestamp` as `timestampNs` (bigint ns), uint64 ids and counts as numbers.
 */
export type LifecycleEventInfo = Omit<Camelized<ContainerLifecycleEvent__Output>, 'eventType' | 'timestamp' | 'id' | 'dropped'> & {
  type: string;
  timestampNs: bigint;
  id: number;
  dropped: number;
};

/** ResourceUsage with every field a number (uint64 byte counts as numbers). */
export type ResourceUsageInfo = { [K in keyof Camelized<ResourceUsage__Output>]: number };

export interface ContainerStatusInfo {
  containerId: string;
  status: string;
  exitCode?: number;
  startedAtNs: bigint;
  finishedAtNs?: bigint;
  resourceUsage?: ResourceUsageInfo;
}

export type ControlResult = Camelized<ContainerControlResponse__Output>;

/**
 * A live ContainerLifecycle subscription: events are queued as they arrive and read with next() /
 * waitFor(); close() cancels the call.
 */
export class LifecycleSubscription {
  private readonly queue: LifecycleEventInfo[] = [];
  private waiters: (() => void)[] = [];
  error?: ServiceError;
  ended = false;

  constructor(readonly call: ClientReadableStream<ContainerLifecycleEvent__Output>) {
    call.on('data', (m: ContainerLifecycleEvent__Output) => {
      this.queue.push(eventFromProto(m));
      this.wake();
    });
    call.on('error', (e: ServiceError) => {
      if (e.code !== status.CANCELLED) this.error = e; // CANCELLED: by close()
      this.ended = true;
      this.wake();
    });
    call.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Every event received so far and not yet taken. */
  drain(): LifecycleEventInfo[] {
    return this.queue.splice(0);
  }

  /** The next event, waiting at most timeoutMs; undefined on timeout or end. */
  async next(timeoutMs = 10_000): Promise<LifecycleEventInfo | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.queue.length) {
      if (this.error) throw this.error;
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        // Node runs a delay over 2^31 - 1 ms after 1 ms; the loop waits again for what is left.
        const t = setTimeout(resolve, Math.min(left, 2 ** 31 - 1));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.queue.shift();
  }

  /** Reads until an event matches (returning it and everything read before it); throws on timeout. */
  async waitFor(pred: (e: LifecycleEventInfo) => boolean, timeoutMs = 15_000): Promise<LifecycleEventInfo[]> {
    const seen: LifecycleEventInfo[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (!e) throw new Error(`no matching lifecycle event within ${timeoutMs} ms; saw ${seen.map((x) => `${x.id}:${x.type}`).join(', ')}`);
      seen.push(e);
      if (pred(e)) return seen;
    }
  }

  close(): void {
    this.call.cancel();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Typed calls of the lifecycle, status and control RPCs. */
export class ControlClient {
  constructor(private readonly connection: GRPCConnectionManager) {}

  lifecycle(options: { containerId?: string; resumeAfterId?: number } = {}): LifecycleSubscription {
    const req: ContainerLifecycleRequest = { container_id: options.containerId ?? '' };
    if (options.resumeAfterId !== undefined) req.resume_after_id = String(options.resumeAfterId);
    return new LifecycleSubscription(this.connection.getClient().ContainerLifecycle(req, this.connection.getMetadata()));
  }

  async status(containerId: string, includeResourceUsage = false): Promise<ContainerStatusInfo> {
    const client = this.connection.getClient();
    const r = await unary<ContainerStatusResponse__Output>((cb) =>
      client.ContainerStatus({ container_id: containerId, include_resource_usage: includeResourceUsage }, this.connection.getMetadata(), cb),
    );
    const u = r.resource_usage;
    return {
      containerId: String(r.container_id ?? ''),
      status: String(r.status ?? ''),
      exitCode: r.exit_code === undefined || r.exit_code === null ? undefined : Number(r.exit_code),
      startedAtNs: BigInt(String(r.started_at ?? '0')),
      finishedAtNs: r.finished_at === undefined || r.finished_at === null ? undefined : BigInt(String(r.finished_at)),
      resourceUsage: u
        ? {
            cpuPercent: Number(u.cpu_percent ?? 0),
            memoryBytes: Number(u.memory_bytes ?? 0),
            memoryLimit: Number(u.memory_limit ?? 0),
            ioReadBytes: Number(u.io_read_bytes ?? 0),
            ioWriteBytes: Number(u.io_write_bytes ?? 0),
          }
        : undefined,
    };
  }

  pause(containerId: string): Promise<ControlResult> {
    const client = this.connection.getClient();
    return unary<ContainerControlResponse__Output>((cb) => client.ContainerPause({ container_id: containerId }, this.connection.getMetadata(), cb)).then(
      controlResult,
    );
  }

  resume(containerId: string): Promise<ControlResult> {
    const client = this.connection.getClient();
    return unary<ContainerControlResponse__Output>((cb) => client.ContainerResume({ container_id: containerId }, this.connection.getMetadata(), cb)).then(
      controlResult,
    );
  }

  /** One page of ListSessions (filters as in the request; next_page_token empty on the last page). */
  listSessions(request: ListSessionsRequest = {}): Promise<ListSessionsResponse__Output> {
    const client = this.connection.getClient();
    return unary<ListSessionsResponse__Output>((cb) => client.ListSessions(request, this.connection.getMetadata(), cb));
  }

  /** Signals the container's main process, or with execId that exec's process. */
  signal(containerId: string, signal: string, execId?: string): Promise<ControlResult> {
    const client = this.connection.getClient();
    const req = { container_id: containerId, signal, exec_id: execId ?? '' };
    return unary<ContainerControlResponse__Output>((cb) => client.ContainerSignal(req, this.connection.getMetadata(), cb)).then(controlResult);
  }
}

/** A unary call as a promise of its response. */
function unary<T>(call: (cb: (err: ServiceError | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value!))));
}

function controlResult(r: ContainerControlResponse__Output): ControlResult {
  return { success: !!r.success, message: String(r.message ?? '') };
}

function eventFromProto(m: ContainerLifecycleEvent__Output): LifecycleEventInfo {
  return {
    id: Number(m.id ?? 0),
    containerId: String(m.container_id ?? ''),
    type: String(m.event_type ?? ''),
    status: String(m.status ?? ''),
    timestampNs: BigInt(String(m.timestamp ?? '0')),
    exitCode: Number(m.exit_code ?? 0),
    signal: Number(m.signal ?? 0),
    message: String(m.message ?? ''),
    sessionId: String(m.session_id ?? ''),
    execId: String(m.exec_id ?? ''),
    source: String(m.source ?? ''),
    dropped: Number(m.dropped ?? 0),
    replica: String(m.replica ?? ''),
  };
}
