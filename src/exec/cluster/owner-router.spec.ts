import { Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { loadConfig } from '../../common/config/exec-config';
import { ExecError } from '../../common/errors';
import { createRootLogger } from '../../common/logger';
import type { ContainerState } from '../../executor';
import type { SessionManager } from '../session';
import { FORWARDED_BY } from './forwarded-metadata';
import { LOCAL, OwnerRouter, replicaOfSession } from './owner-router';
import type { PeerChannels } from './peer-channels';
import type { PeerDirectory } from './peer-directory';
import type { RequestIdHome } from './request-id-home';

const UUID = '0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const PEERS = { 'es-b': '10.0.0.2:50051', 'es-c': '10.0.0.3:50051' };
const FULL_ID = 'c0ffee'.padEnd(64, '0');

const grpcError = (code: Code, details: string): ServiceError => Object.assign(new Error(details), { code, details, metadata: new Metadata() });

/** The peers as PeerDirectory gives them (static: an unknown id has no address). */
class FakeDirectory {
  readonly self = 'es-a';
  asked: string[] = [];
  peers() {
    return new Map(Object.entries(PEERS));
  }
  async addressOf(id: string) {
    this.asked.push(id);
    return this.peers().get(id);
  }
}

/** A peer's ContainerStatus answer, per address: its full container id, or the gRPC error it ends with. */
class FakeChannels {
  answers = new Map<string, string | ServiceError>();
  calls: Array<{ address: string; method: string; req: unknown; metadata: Metadata }> = [];
  async unary<Res>(address: string, method: string, req: unknown, metadata: Metadata): Promise<Res> {
    this.calls.push({ address, method, req, metadata });
    const answer = this.answers.get(address) ?? grpcError(Code.NOT_FOUND, 'no such container');
    if (typeof answer !== 'string') throw answer;
    return { container_id: answer } as Res;
  }
}

class FakeSessions {
  containers: string[] = [];
  requestIds: string[] = [];
  asked = 0;
  hasRequestId(id: string) {
    return this.requestIds.includes(id);
  }
  containerByPrefix(prefix: string) {
    this.asked++;
    return this.containers.find((id) => id.startsWith(prefix));
  }
}

/** This replica's engine: the containers on it, by full id. */
class FakeControl {
  containers: ContainerState[] = [];
  asked = 0;
  async inspect(id: string): Promise<ContainerState> {
    this.asked++;
    const found = this.containers.find((c) => c.id.startsWith(id));
    if (!found) throw new ExecError('not_found', `no container ${id}`);
    return found;
  }
}

const state = (id: string, replica?: string): ContainerState => ({
  id,
  replica,
  managed: !!replica,
  status: 'running',
  running: true,
  paused: false,
  oomKilled: false,
});

describe('replicaOfSession', () => {
  it('is the replica an `R.<uuid>` session id names', () => {
    expect(replicaOfSession(`es-a.${UUID}`)).toBe('es-a');
    expect(replicaOfSession(`exec-stream-0.${UUID}`)).toBe('exec-stream-0');
    expect(replicaOfSession(`b.${UUID}`)).toBe('b');
  });

  it('is undefined for a bare uuid and for ids that are not `R.<uuid>`', () => {
    expect(replicaOfSession(UUID)).toBeUndefined();
    expect(replicaOfSession('')).toBeUndefined();
    expect(replicaOfSession(`.${UUID}`)).toBeUndefined();
    expect(replicaOfSession(`ES-A.${UUID}`)).toBeUndefined(); // upper case is no DNS-1123 label
    expect(replicaOfSession(`-a.${UUID}`)).toBeUndefined();
    expect(replicaOfSession(`a-.${UUID}`)).toBeUndefined();
    expect(replicaOfSession(`${'x'.repeat(64)}.${UUID}`)).toBeUndefined();
    expect(replicaOfSession(`es-a.${UUID.toUpperCase()}`)).toBeUndefined();
    expect(replicaOfSession(`es-a.${UUID}x`)).toBeUndefined();
    expect(replicaOfSession(`es-a.${UUID.slice(0, -1)}`)).toBeUndefined();
    expect(replicaOfSession(`x.es-a.${UUID}`)).toBeUndefined();
  });
});

describe('OwnerRouter', () => {
  let directory: FakeDirectory;
  let channels: FakeChannels;
  let sessions: FakeSessions;
  let control: FakeControl;
  /** request_id → its home replica (RequestIdHome is specified in request-id-home.spec.ts). */
  const homes: Record<string, string> = { 'job-b': 'es-b', 'job-gone': 'es-z' };
  const router = (env: Record<string, string> = { EXEC_PEERS: 'es-b=10.0.0.2:50051,es-c=10.0.0.3:50051' }) =>
    new OwnerRouter(
      directory as unknown as PeerDirectory,
      channels as unknown as PeerChannels,
      sessions as unknown as SessionManager,
      { of: (id: string) => homes[id] ?? 'es-a' } as unknown as RequestIdHome,
      control,
      loadConfig({ EXEC_REPLICA_ID: 'es-a', ...env }),
      createRootLogger('silent'),
    );
  beforeEach(() => {
    directory = new FakeDirectory();
    channels = new FakeChannels();
    sessions = new FakeSessions();
    control = new FakeControl();
  });
  /** The ExecError a call rejects with. */
  const execError = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExecError);
    return err as ExecError;
  };

  describe('ofSession', () => {
    it("is local for this replica's session and for an id that names no replica", async () => {
      const r = router();
      expect(await r.ofSession(`es-a.${UUID}`)).toEqual(LOCAL);
      expect(await r.ofSession(UUID)).toEqual(LOCAL);
      expect(directory.asked).toEqual([]);
    });

    it("is a known peer's address for its session", async () => {
      expect(await router().ofSession(`es-c.${UUID}`)).toEqual({ local: false, replica: 'es-c', address: PEERS['es-c'] });
    });

    it('is UNAVAILABLE naming a replica that is not among the peers', async () => {
      const err = await execError(router().ofSession(`es-z.${UUID}`));
      expect({ kind: err.kind, grpcCode: err.grpcCode }).toEqual({ kind: 'unavailable', grpcCode: Code.UNAVAILABLE });
      expect(err.message).toContain('replica es-z');
      expect(err.message).toContain(`session es-z.${UUID}`);
    });
  });

  describe('not clustered (no EXEC_PEERS, no EXEC_PEERS_DNS)', () => {
    it('is always local and asks nothing: no peer, no session, no engine', async () => {
      const r = router({});
      expect(r.clustered).toBe(false);
      expect(await r.ofSession(`es-b.${UUID}`)).toEqual(LOCAL);
      expect(await r.ofSession(`es-z.${UUID}`)).toEqual(LOCAL);
      expect(await r.ofContainer('c0ffee', undefined)).toEqual(LOCAL);
      expect({ directory: directory.asked, peers: channels.calls.length, sessions: sessions.asked, engine: control.asked }).toEqual({
        directory: [],
        peers: 0,
        sessions: 0,
        engine: 0,
      });
    });
  });

  describe('ofContainer', () => {
    it("is local without asking anyone when this replica's sessions have the container", async () => {
      sessions.containers = [FULL_ID];
      expect(await router().ofContainer('c0ffee', undefined)).toEqual(LOCAL);
      expect({ peers: channels.calls.length, engine: control.asked }).toEqual({ peers: 0, engine: 0 });
    });

    it('is local for a container on this engine labelled with this replica or with no replica', async () => {
      control.containers = [state(FULL_ID, 'es-a'), state('d00d'.padEnd(64, '1'))];
      const r = router();
      expect(await r.ofContainer('c0ffee', undefined)).toEqual(LOCAL);
      expect(await r.ofContainer('d00d', undefined)).toEqual(LOCAL);
      expect(channels.calls).toEqual([]);
    });

    it('is the peer a container on this engine is labelled with (an engine shared by replicas), without asking the peers', async () => {
      control.containers = [state(FULL_ID, 'es-b')];
      expect(await router().ofContainer('c0ffee', undefined)).toEqual({ local: false, replica: 'es-b', address: PEERS['es-b'] });
      expect(channels.calls).toEqual([]);
    });

    it('asks every peer once when not local; the one answering OK owns it and is remembered (by prefix and full id)', async () => {
      channels.answers.set(PEERS['es-c'], FULL_ID);
      const r = router();
      const md = new Metadata();
      md.set('authorization', 'Bearer t0k3n');
      const owner = { local: false, replica: 'es-c', address: PEERS['es-c'] };
      expect(await r.ofContainer('c0ffee', md)).toEqual(owner);
      expect(channels.calls.map((c) => [c.address, c.method, c.req]).sort()).toEqual([
        [PEERS['es-b'], 'ContainerStatus', { container_id: 'c0ffee' }],
        [PEERS['es-c'], 'ContainerStatus', { container_id: 'c0ffee' }],
      ]);
      // Asked on the caller's behalf: its token, and marked as forwarded so that the peer does not ask on.
      for (const c of channels.calls) {
        expect(c.metadata.get('authorization')).toEqual(['Bearer t0k3n']);
        expect(c.metadata.get(FORWARDED_BY)).toEqual(['es-a']);
      }
      const engineAsked = control.asked;
      expect(await r.ofContainer('c0ffee', md)).toEqual(owner);
      expect(await r.ofContainer(FULL_ID, md)).toEqual(owner);
      expect({ peers: channels.calls.length, engine: control.asked }).toEqual({ peers: 2, engine: engineAsked });
    });

    it('is local when every peer answers NOT_FOUND (or PERMISSION_DENIED): the local handler says NOT_FOUND', async () => {
      channels.answers.set(PEERS['es-c'], grpcError(Code.PERMISSION_DENIED, 'not created by this service'));
      expect(await router().ofContainer('c0ffee', undefined)).toEqual(LOCAL);
      expect(channels.calls).toHaveLength(2);
    });

    it('is UNAVAILABLE naming the peer that could not be asked when nobody has it', async () => {
      channels.answers.set(PEERS['es-c'], grpcError(Code.UNAVAILABLE, 'connection refused'));
      const err = await execError(router().ofContainer('c0ffee', undefined));
      expect(err.kind).toBe('unavailable');
      expect(err.message).toContain('es-c (connection refused)');
      expect(err.message).not.toContain('es-b');
    });

    it("is PERMISSION_DENIED, not NOT_FOUND, when the caller's token may not ask the peers (scope read)", async () => {
      for (const address of Object.values(PEERS))
        channels.answers.set(address, grpcError(Code.PERMISSION_DENIED, 'ContainerStatus needs scope "read"; token "ci" has run'));
      const err = await execError(router().ofContainer('c0ffee', undefined));
      expect({ kind: err.kind, message: err.message }).toEqual({ kind: 'permission', message: expect.stringContaining('needs scope "read"') });
    });

    it('is the peer that has it even when another peer could not be asked', async () => {
      channels.answers.set(PEERS['es-b'], grpcError(Code.DEADLINE_EXCEEDED, 'deadline'));
      channels.answers.set(PEERS['es-c'], FULL_ID);
      expect(await router().ofContainer('c0ffee', undefined)).toEqual({ local: false, replica: 'es-c', address: PEERS['es-c'] });
    });
  });

  describe('ofRequestId', () => {
    it('is here when this replica is the home or already has the id, and asks nobody', async () => {
      expect(await router().ofRequestId('job-a')).toBe(LOCAL);
      sessions.requestIds.push('job-b');
      expect(await router().ofRequestId('job-b')).toBe(LOCAL);
      expect(channels.calls).toEqual([]);
    });

    it('is the home replica when it is another one, without asking any peer', async () => {
      expect(await router().ofRequestId('job-b')).toEqual({ local: false, replica: 'es-b', address: PEERS['es-b'] });
      expect(channels.calls).toEqual([]);
    });

    it('a home that is not among the peers now is UNAVAILABLE naming it (only its ids wait)', async () => {
      const err = await execError(router().ofRequestId('job-gone'));
      expect(err.kind).toBe('unavailable');
      expect(err.message).toMatch(/belongs to replica es-z, which is not among the peers now.*retry with the same request_id/);
      expect(await router().ofRequestId('job-a')).toBe(LOCAL);
    });

    it('without peers configured everything is local', async () => {
      expect(await router({}).ofRequestId('job-b')).toBe(LOCAL);
    });
  });
});
