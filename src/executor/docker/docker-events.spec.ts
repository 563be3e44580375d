import { Test, type TestingModule } from '@nestjs/testing';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { loadConfig, type ExecConfig } from '../../common/config/exec-config';
import { HEALTH_PROBLEM, HealthState } from '../../common/health-state';
import { DOCKER_CLIENT, EXEC_CONFIG, LIFECYCLE_PUBLISHER, ROOT_LOGGER } from '../../common/tokens';
import { LifecycleBus } from '../../lifecycle/lifecycle-bus';
import type { LifecycleEvent, LifecycleEventType, StatusAfter } from '../../lifecycle/lifecycle-event';
import { DockerEventsSource } from './docker-events';
import type { DockerEventMessage } from './docker-event-mapping';
import { LABEL_MANAGED, LABEL_REPLICA, LABEL_SESSION } from './labels';

const REPLICA = 'r1';
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const D = 'd'.repeat(64);
const E = 'e'.repeat(64);
const F = 'f'.repeat(64);
const G = '0'.repeat(64);
/** What every events request of this instance filters on. */
const FILTERS = { type: ['container'], label: [`${LABEL_MANAGED}=true`, `${LABEL_REPLICA}=${REPLICA}`] };

type EventsAnswer = { err: Error } | { stream: PassThrough };

/** One getEvents call: what it asked for, when, and how the test answers it. */
interface EventsCall {
  opts: Record<string, unknown>;
  atMs: number;
  answer(a: EventsAnswer): void;
}

/** A summary of one container as /containers/json gives it (the fields the source reads). */
interface Listed {
  Id: string;
  State: string;
  Status?: string;
  Labels?: Record<string, string>;
}

/** dockerode replaced through DOCKER_CLIENT: /events is a PassThrough the test writes JSON lines into. */
class FakeDocker {
  readonly calls: EventsCall[] = [];
  /** How a new getEvents call is answered at once; undefined holds it until the test answers. */
  next: () => EventsAnswer | undefined = () => undefined;
  /** The streams handed out, newest last. */
  readonly streams: PassThrough[] = [];
  containers: Listed[] = [];
  listError?: Error;
  readonly listings: unknown[] = [];

  getEvents(opts: Record<string, unknown>, cb: (err: Error | null, stream?: PassThrough) => void): void {
    const call: EventsCall = {
      opts,
      atMs: Date.now(),
      answer: (a) => {
        if ('stream' in a) this.streams.push(a.stream);
        cb('err' in a ? a.err : null, 'stream' in a ? a.stream : undefined);
      },
    };
    this.calls.push(call);
    const a = this.next();
    if (a) call.answer(a);
  }

  async listContainers(opts: unknown): Promise<Listed[]> {
    this.listings.push(opts);
    if (this.listError) throw this.listError;
    return this.containers;
  }

  get live(): PassThrough {
    return this.streams[this.streams.length - 1];
  }
}

const connects = (): EventsAnswer => ({ stream: new PassThrough() });
const refuses = (): EventsAnswer => ({ err: Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }) });

/** A Docker container event of this instance's container (labels managed, replica r1, session s-<id>). */
function dockerEvent(id: string, action: string, timeNano: number, attrs: Record<string, string> = {}): DockerEventMessage {
  return {
    Type: 'container',
    Action: action,
    Actor: { ID: id, Attributes: { [LABEL_MANAGED]: 'true', [LABEL_REPLICA]: REPLICA, [LABEL_SESSION]: `s-${id[0]}`, ...attrs } },
    time: Math.floor(timeNano / 1e9),
    timeNano,
  };
}

const line = (msg: unknown): string => `${JSON.stringify(msg)}\n`;

/** Lets stream events (emitted on real process.nextTick) and promise reactions run; fake time stands still. */
const flush = () => new Promise<void>((r) => setImmediate(r));

/** Whether `p` has settled once pending reactions ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await flush();
  return done;
}

/** A Docker timeNano (ns). Such numbers are past 2^53: JSON gives them to JS rounded to 256 ns, and the source keeps microseconds. */
const T0 = 1_700_000_000_000_000_000;
const ns = (offset: number) => BigInt(T0) + BigInt(offset);

describe('DockerEventsSource', () => {
  let moduleRef: TestingModule;
  let source: DockerEventsSource;
  let bus: LifecycleBus;
  let docker: FakeDocker;
  let config: ExecConfig;
  let published: LifecycleEvent[];
  let logs: { level: number; msg: string; [k: string]: unknown }[];

  const health = () => moduleRef.get(HealthState);
  const service = () => published.filter((e) => e.source === 'service').map((e) => e.type);
  const fromDocker = () => published.filter((e) => e.source === 'docker');

  async function build(env: Record<string, string> = {}): Promise<void> {
    docker = new FakeDocker();
    config = loadConfig({ EXEC_REPLICA_ID: REPLICA, ...env });
    logs = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
    moduleRef = await Test.createTestingModule({
      providers: [
        DockerEventsSource,
        LifecycleBus,
        { provide: LIFECYCLE_PUBLISHER, useExisting: LifecycleBus },
        { provide: DOCKER_CLIENT, useValue: docker },
        { provide: EXEC_CONFIG, useValue: config },
        { provide: ROOT_LOGGER, useValue: logger },
        HealthState,
      ],
    }).compile();
    source = moduleRef.get(DockerEventsSource);
    bus = moduleRef.get(LifecycleBus);
    published = [];
    bus.subscribe((e) => published.push(e));
  }

  /** Builds and bootstraps with the first connection answered at once. */
  async function started(): Promise<PassThrough> {
    await build();
    docker.next = connects;
    await moduleRef.init();
    return docker.live;
  }

  /** Ends the live stream as a daemon restart does, and lets the source see it. */
  async function dropStream(): Promise<void> {
    docker.live.end();
    await flush();
  }

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  describe('bootstrap', () => {
    it('counts Docker as unreachable from construction until the first connection, then not', async () => {
      await build();
      expect(health().has(HEALTH_PROBLEM.docker)).toBe(true);
      expect(source.isConnected).toBe(false);
      const init = moduleRef.init();
      expect(await settled(init)).toBe(false); // waits for the first attempt's outcome
      expect(docker.calls).toHaveLength(1);
      docker.calls[0].answer(connects());
      expect(await settled(init)).toBe(true);
      expect(source.isConnected).toBe(true);
      expect(health().has(HEALTH_PROBLEM.docker)).toBe(false);
      expect(health().serving).toBe(true);
    });

    it("asks only for this instance's container events, without `since`, and publishes nothing for the first connection", async () => {
      await started();
      expect(docker.calls.map((c) => c.opts)).toEqual([{ filters: FILTERS }]);
      expect(published).toEqual([]);
    });

    it('waits at most EXEC_DOCKER_TIMEOUT_MS for a first attempt that does not answer', async () => {
      await build({ EXEC_DOCKER_TIMEOUT_MS: '1500' });
      const init = moduleRef.init();
      await jest.advanceTimersByTimeAsync(1499);
      expect(await settled(init)).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(await settled(init)).toBe(true);
      expect(health().has(HEALTH_PROBLEM.docker)).toBe(true);
    });

    it('waits at most 5 s when EXEC_DOCKER_TIMEOUT_MS is longer', async () => {
      await build(); // 30 s by default
      const init = moduleRef.init();
      await jest.advanceTimersByTimeAsync(4999);
      expect(await settled(init)).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(await settled(init)).toBe(true);
    });

    it('ends at once on a refused first attempt: NOT_SERVING with the reason, no `events_disconnected` (never connected)', async () => {
      await build();
      docker.next = refuses;
      await moduleRef.init();
      expect(source.isConnected).toBe(false);
      expect(health().serving).toBe(false);
      expect(health().reasons).toEqual(['Docker unreachable: connect ENOENT /var/run/docker.sock']);
      expect(published).toEqual([]);
      docker.next = connects;
      await jest.advanceTimersByTimeAsync(100);
      expect(docker.calls).toHaveLength(2);
      expect(source.isConnected).toBe(true);
      expect(health().serving).toBe(true);
      // The first connection ever, even if late: nothing to report as reconnected.
      expect(published).toEqual([]);
    });
  });

  describe('events read from the stream', () => {
    it('publishes each transition of a managed container as Docker reports it (source docker, session from the label)', async () => {
      const stream = await started();
      stream.write(line(dockerEvent(A, 'create', T0)) + line(dockerEvent(A, 'start', T0 + 1000)));
      stream.write(line(dockerEvent(A, 'kill', T0 + 2000, { signal: '9' })));
      stream.write(line(dockerEvent(A, 'die', T0 + 3000, { exitCode: '137' })));
      stream.write(line(dockerEvent(A, 'destroy', T0 + 4000)));
      await flush();
      expect(fromDocker().map((e) => [e.type, e.status])).toEqual([
        ['created', 'created'],
        ['started', 'running'],
        ['killed', 'running'],
        ['exited', 'exited'],
        ['destroyed', 'removed'],
      ]);
      expect(fromDocker().every((e) => e.containerId === A && e.sessionId === 's-a')).toBe(true);
      expect(fromDocker()[2]).toMatchObject({ signal: 9, message: expect.stringContaining('SIGKILL') });
      expect(fromDocker()[3]).toMatchObject({ exitCode: 137, timestampNs: ns(3000) });
    });

    it('reassembles an event cut across chunks, also inside a multi-byte character', async () => {
      const stream = await started();
      const bytes = Buffer.from(line(dockerEvent(A, 'start', T0, { note: 'žluť' })));
      const cut = bytes.indexOf(Buffer.from('ž')) + 1; // between the two bytes of ž
      stream.write(bytes.subarray(0, 10));
      stream.write(bytes.subarray(10, cut));
      await flush();
      expect(fromDocker()).toEqual([]);
      stream.write(bytes.subarray(cut));
      await flush();
      expect(fromDocker().map((e) => e.type)).toEqual(['started']);
    });

    it('skips a line that is not JSON (logged) and reads on', async () => {
      const stream = await started();
      stream.write('{"Type":"container",garbage\n' + line(dockerEvent(A, 'start', T0)));
      await flush();
      expect(fromDocker().map((e) => e.type)).toEqual(['started']);
      expect(logs.find((l) => l.msg === 'unreadable Docker event skipped')).toMatchObject({ line: '{"Type":"container",garbage' });
    });

    it("ignores other instances' and unmanaged containers, other event types and actions that are no transition", async () => {
      const stream = await started();
      stream.write(line(dockerEvent(A, 'start', T0, { [LABEL_REPLICA]: 'r2' })));
      stream.write(line(dockerEvent(A, 'start', T0 + 1000, { [LABEL_MANAGED]: 'false' })));
      stream.write(line({ ...dockerEvent(A, 'start', T0 + 2000), Type: 'network' }));
      for (const action of ['attach', 'resize', 'exec_start: sh', 'stop']) stream.write(line(dockerEvent(A, action, T0 + 3000)));
      await flush();
      expect(published).toEqual([]);
      stream.write(line(dockerEvent(A, 'start', T0 + 4000)));
      await flush();
      expect(published.map((e) => e.type)).toEqual(['started']);
    });

    it('publishes the same event once when Docker repeats it (same container, action and time)', async () => {
      const stream = await started();
      stream.write(line(dockerEvent(A, 'start', T0)) + line(dockerEvent(A, 'start', T0)) + line(dockerEvent(A, 'start', T0 + 1000)));
      await flush();
      expect(fromDocker().map((e) => e.timestampNs)).toEqual([ns(0), ns(1000)]);
    });

    it('logs a stream that ends inside an event', async () => {
      const stream = await started();
      stream.write('{"Type":"container","Act');
      await dropStream();
      expect(logs.find((l) => l.msg === 'events stream ended inside an event')).toMatchObject({ bytes: 24 });
    });
  });

  describe('a lost connection', () => {
    it('publishes one `events_disconnected` and turns health NOT_SERVING, however many retries fail', async () => {
      await started();
      docker.next = refuses;
      await dropStream();
      expect(source.isConnected).toBe(false);
      expect(health().reasons).toEqual(['Docker unreachable: events stream ended']);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(docker.calls.length).toBeGreaterThan(5);
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({ type: 'events_disconnected', containerId: '', status: '', source: 'service' });
      expect(published[0].message).toBe('lost the Docker events connection (events stream ended); reconnecting');
      expect(health().reasons).toEqual(['Docker unreachable: connect ENOENT /var/run/docker.sock']);
    });

    it('retries after 100 ms, doubling to at most 2 s', async () => {
      await started();
      docker.next = refuses;
      await dropStream();
      const lostAt = Date.now();
      await jest.advanceTimersByTimeAsync(11_000);
      const at = [lostAt, ...docker.calls.slice(1).map((c) => c.atMs)];
      expect(at.slice(1).map((t, i) => t - at[i])).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    });

    it('on reconnecting publishes `events_reconnected` with the outage, clears health and calls the reconnect listeners', async () => {
      await started();
      const heard: string[] = [];
      source.onReconnected(() => heard.push('first'));
      source.onReconnected(() => {
        throw new Error('listener bug');
      });
      const off = source.onReconnected(() => heard.push('removed'));
      off();
      source.onReconnected(() => heard.push(`last, after ${published.at(-1)?.type}`));
      docker.next = refuses;
      await dropStream();
      await jest.advanceTimersByTimeAsync(700); // attempts at 100, 300, 700 ms
      docker.next = connects;
      await jest.advanceTimersByTimeAsync(800); // the one at 1500 ms connects
      expect(source.isConnected).toBe(true);
      expect(health().serving).toBe(true);
      expect(service()).toEqual(['events_disconnected', 'events_reconnected']);
      expect(published[1].message).toBe('reconnected to Docker events after 1500 ms; transitions missed meanwhile follow as reconciled events');
      expect(heard).toEqual(['first', 'last, after events_reconnected']);
      expect(logs.find((l) => l.msg === 'a reconnect listener failed')).toMatchObject({ err: 'listener bug' });
    });

    it('starts the backoff from 100 ms again after a successful reconnect', async () => {
      await started();
      docker.next = refuses;
      await dropStream();
      await jest.advanceTimersByTimeAsync(1500); // 100, 300, 700, 1500
      docker.next = connects;
      await jest.advanceTimersByTimeAsync(1600); // 3100: connected
      expect(docker.calls).toHaveLength(6);
      docker.next = () => undefined;
      await dropStream();
      await jest.advanceTimersByTimeAsync(99);
      expect(docker.calls).toHaveLength(6);
      await jest.advanceTimersByTimeAsync(1);
      expect(docker.calls).toHaveLength(7);
    });

    it('counts an error and the close after it as one loss (one retry, one event)', async () => {
      await started();
      docker.next = () => undefined;
      docker.live.destroy(new Error('socket hang up'));
      await flush();
      expect(health().reasons).toEqual(['Docker unreachable: socket hang up']);
      await jest.advanceTimersByTimeAsync(5000);
      expect(docker.calls).toHaveLength(2); // the held retry; no second timer
      expect(service()).toEqual(['events_disconnected']);
    });

    it('a getEvents answer with no error and no stream is a failed attempt', async () => {
      await build();
      docker.next = () => ({ stream: undefined as unknown as PassThrough });
      await moduleRef.init();
      expect(health().reasons).toEqual(['Docker unreachable: no stream']);
    });
  });

  describe('`since` after a reconnect', () => {
    it("asks for the events since the last one seen (seconds with 9 decimals, from timeNano; any instance's)", async () => {
      const stream = await started();
      const last = 1_700_000_123_456_789_248; // exactly a double
      stream.write(line(dockerEvent(A, 'start', T0)) + line(dockerEvent(B, 'start', last, { [LABEL_REPLICA]: 'r2' })));
      await flush();
      docker.next = connects;
      await dropStream();
      await jest.advanceTimersByTimeAsync(100);
      expect(docker.calls[1].opts).toEqual({ filters: FILTERS, since: '1700000123.456789248' });
    });

    it('falls back to `time` (whole seconds) for an event without timeNano', async () => {
      const stream = await started();
      stream.write(line({ ...dockerEvent(A, 'start', T0), timeNano: undefined, time: 1_700_000_042 }));
      await flush();
      docker.next = connects;
      await dropStream();
      await jest.advanceTimersByTimeAsync(100);
      expect(docker.calls[1].opts).toEqual({ filters: FILTERS, since: '1700000042' });
    });

    it('skips the events Docker replays at the boundary, and publishes the new ones after them', async () => {
      const stream = await started();
      stream.write(line(dockerEvent(A, 'create', T0)) + line(dockerEvent(A, 'start', T0 + 1000)));
      await flush();
      docker.containers = [{ Id: A, State: 'running' }]; // nothing for the reconcile to add
      docker.next = connects;
      await dropStream();
      await jest.advanceTimersByTimeAsync(100);
      docker.live.write(line(dockerEvent(A, 'start', T0 + 1000)) + line(dockerEvent(A, 'pause', T0 + 2000)));
      await flush();
      expect(fromDocker().map((e) => e.type)).toEqual(['created', 'started', 'paused']);
    });

    it('remembers the last 2048 events: an older one replayed is published again', async () => {
      const stream = await started();
      for (let i = 0; i <= 2048; i++) stream.write(line(dockerEvent(A, 'kill', T0 + i * 1000, { signal: '15' })));
      await flush();
      expect(fromDocker()).toHaveLength(2049);
      stream.write(line(dockerEvent(A, 'kill', T0 + 2048_000, { signal: '15' })) + line(dockerEvent(A, 'kill', T0, { signal: '15' })));
      await flush();
      expect(
        fromDocker()
          .slice(2049)
          .map((e) => e.timestampNs),
      ).toEqual([ns(0)]);
    });
  });

  describe('reconciling after a reconnect', () => {
    /** Bus reports (from any source) of what the source should believe before the outage. */
    function believe(): void {
      const report = (containerId: string, type: LifecycleEventType, status: StatusAfter, sessionId?: string) =>
        bus.publish({ containerId, type, status, source: 'executor', sessionId });
      report(A, 'started', 'running', 'sa');
      report(B, 'started', 'running', 'sb');
      report(C, 'paused', 'paused'); // no session known: the label names it
      report(D, 'registered', 'created', 'sd');
      report(E, 'started', 'running', 'se');
      report(F, 'exited', 'exited', 'sf'); // already ended: not compared
      report(G, 'started', 'running', 'sg');
      report(G, 'unregistered', ''); // forgotten
    }

    async function reconnectWith(containers: Listed[]): Promise<LifecycleEvent[]> {
      await started();
      believe();
      const before = published.length;
      docker.containers = containers;
      docker.next = connects;
      await dropStream();
      await jest.advanceTimersByTimeAsync(100);
      await flush();
      return published.slice(before);
    }

    it("publishes the transitions Docker's state shows were missed, after `events_reconnected`", async () => {
      const after = await reconnectWith([
        // A is gone
        { Id: B, State: 'exited', Status: 'Exited (137) 3 seconds ago' },
        { Id: C, State: 'running', Status: 'Up 1 minute', Labels: { [LABEL_SESSION]: 'sc' } },
        { Id: D, State: 'running', Status: 'Up 2 seconds' },
        { Id: E, State: 'paused', Status: 'Up 1 minute (Paused)' },
        { Id: F, State: 'running', Status: 'Up 1 second' },
      ]);
      expect(docker.listings).toEqual([{ all: true, filters: { label: FILTERS.label } }]);
      expect(after.map((e) => e.type)).toEqual(['events_disconnected', 'events_reconnected', 'destroyed', 'exited', 'resumed', 'started', 'paused']);
      const byId = new Map(after.slice(2).map((e) => [e.containerId, e]));
      expect(byId.get(A)).toMatchObject({ status: 'removed', source: 'docker', sessionId: 'sa', message: 'found removed after the events reconnect' });
      expect(byId.get(B)).toMatchObject({ status: 'exited', exitCode: 137, sessionId: 'sb', message: 'found exited after the events reconnect' });
      expect(byId.get(C)).toMatchObject({ status: 'running', sessionId: 'sc' });
      expect(byId.get(D)).toMatchObject({ status: 'running', sessionId: 'sd' });
      expect(byId.get(E)).toMatchObject({ status: 'paused', sessionId: 'se' });
      expect(byId.has(F)).toBe(false);
      expect(byId.has(G)).toBe(false);
    });

    it('publishes nothing for containers whose state is what it believed', async () => {
      const after = await reconnectWith([
        { Id: A, State: 'running' },
        { Id: B, State: 'running' },
        { Id: C, State: 'paused' },
        { Id: D, State: 'created' },
        { Id: E, State: 'running' },
      ]);
      expect(after.map((e) => e.type)).toEqual(['events_disconnected', 'events_reconnected']);
    });

    it('a dead container, or one without a code in its status, is exited (with no code)', async () => {
      const after = await reconnectWith([
        { Id: A, State: 'dead', Status: 'Dead' },
        { Id: B, State: 'exited', Status: 'Exited (-1) 1 second ago' },
        { Id: C, State: 'paused' },
        { Id: D, State: 'created' },
        { Id: E, State: 'running' },
      ]);
      expect(after.slice(2).map((e) => [e.containerId, e.type, e.exitCode])).toEqual([
        [A, 'exited', undefined],
        [B, 'exited', -1],
      ]);
    });

    it('logs, and publishes nothing more, when Docker does not list', async () => {
      await started();
      believe();
      docker.listError = new Error('list failed');
      docker.next = connects;
      await dropStream();
      await jest.advanceTimersByTimeAsync(100);
      await flush();
      expect(service()).toEqual(['events_disconnected', 'events_reconnected']);
      expect(fromDocker()).toEqual([]);
      expect(logs.find((l) => l.msg === 'could not reconcile container states after reconnect')).toMatchObject({ err: 'list failed' });
    });

    it('does not reconcile on the first connection', async () => {
      await started();
      await flush();
      expect(docker.listings).toEqual([]);
    });

    it('publishes a missed transition once when the reconcile reports it before the `since` replay does; a later one is published', async () => {
      const after = await reconnectWith([
        { Id: A, State: 'running', Status: 'Up 1 minute' },
        { Id: B, State: 'exited', Status: 'Exited (3) 1 second ago' },
        { Id: C, State: 'paused', Status: 'Up 1 minute (Paused)' },
        { Id: D, State: 'created', Status: 'Created' },
        { Id: E, State: 'running', Status: 'Up 1 minute' },
      ]);
      expect(after.filter((e) => e.containerId === B).map((e) => e.type)).toEqual(['exited']);
      // The replay of B's `die` (it happened during the outage) comes after the reconcile published it.
      docker.live.write(line(dockerEvent(B, 'die', T0, { exitCode: '3' })));
      await flush();
      expect(published.filter((e) => e.containerId === B && e.type === 'exited')).toHaveLength(1);
      // A transition after the reconnect is new, whatever the reconcile published.
      docker.live.write(line(dockerEvent(A, 'die', Date.now() * 1e6 + 1e9, { exitCode: '0' })));
      await flush();
      expect(published.filter((e) => e.containerId === A && e.type === 'exited')).toHaveLength(1);
    });
  });

  describe('shutdown', () => {
    it('destroys the stream, stops retrying and follows the bus no more', async () => {
      await started();
      const stream = docker.live;
      await moduleRef.close();
      expect(stream.destroyed).toBe(true);
      await flush();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(docker.calls).toHaveLength(1);
      expect(service()).toEqual([]); // the close it caused is no loss
      expect(health().reasons).toEqual([]);
    });

    it('cancels a pending retry', async () => {
      await started();
      docker.next = refuses;
      await dropStream();
      await moduleRef.close();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(docker.calls).toHaveLength(1);
    });

    it('destroys a stream that Docker hands over after shutdown', async () => {
      await build();
      const init = moduleRef.init();
      await flush(); // bootstrap has asked Docker
      source.onModuleDestroy(); // what closing the module does, here before Docker answered
      const late = new PassThrough();
      docker.calls[0].answer({ stream: late });
      expect(late.destroyed).toBe(true);
      expect(source.isConnected).toBe(false);
      await jest.advanceTimersByTimeAsync(5000); // bootstrap's bound on the wait
      await init;
    });
  });
});
