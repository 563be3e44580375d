import { status } from '@grpc/grpc-js';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient, ExecClient, GRPCConnectionManager, type ExecSession } from '@exec-stream/client';
import { buildService, childService, type ChildService } from './support/child-service';
import { backgroundReader, waitUntil } from './support/conditions';
import { grpcError, sha256 } from './support/helpers';
import { BASE_IMAGE } from './support/server';

// Each token is used in clear only by the client; the service gets its sha256 in the tokens file.
const TOKENS = {
  reader: 'reader-token-3f9c2a7e51d04b68',
  runner: 'runner-token-8b1e6d4c90a27f35',
  controller: 'controller-token-c47a0e9d2f61',
  rotated: 'rotated-token-5d2e8f1a7c3b9046',
};
const ADMIN = 'admin-token-from-EXEC_AUTH_TOKEN-1';
type Who = keyof typeof TOKENS | 'admin';

const entry = (name: keyof typeof TOKENS, scopes: string[]) => ({ name, sha256: sha256(TOKENS[name]), scopes });

/**
 * A Kubernetes-style Secret volume: tokens.json → ..data/tokens.json, ..data → ..<version>; an update
 * writes a new version folder and renames a new ..data link over the old one (atomic symlink swap).
 */
function secretVolume() {
  const dir = mkdtempSync(join(tmpdir(), 'exec-stream-scoped-tokens-'));
  let version = 0;
  const publish = (text: string) => {
    const v = `..v${++version}`;
    mkdirSync(join(dir, v));
    writeFileSync(join(dir, v, 'tokens.json'), text);
    symlinkSync(v, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  return {
    dir,
    file: join(dir, 'tokens.json'),
    publish,
    init(text: string) {
      publish(text);
      symlinkSync('..data/tokens.json', join(dir, 'tokens.json'));
    },
  };
}

let svc: ChildService;
const volume = secretVolume();
const connections: GRPCConnectionManager[] = [];
function as(who: Who) {
  const c = new GRPCConnectionManager({ address: svc.address, token: who === 'admin' ? ADMIN : TOKENS[who] });
  connections.push(c);
  return { exec: new ExecClient(c), control: new ControlClient(c) };
}
/** The gRPC error of a call that must be refused for lacking `scope`, its message naming it. */
async function deniedFor(scope: string, p: Promise<unknown>): Promise<void> {
  const err = await grpcError(p);
  expect({ code: status[err.code], details: err.details }).toEqual({ code: 'PERMISSION_DENIED', details: expect.stringContaining(`needs scope "${scope}"`) });
}

let sleeper: ExecSession;
let containerId: string;
let sessionId: string;

beforeAll(async () => {
  buildService();
  volume.init(JSON.stringify([entry('reader', ['read']), entry('runner', ['run']), entry('controller', ['control'])]));
  svc = await childService({ EXEC_AUTH_TOKEN: ADMIN, EXEC_AUTH_TOKENS_FILE: volume.file });
  await svc.start();
  // A long-running run (started by the all-scopes EXEC_AUTH_TOKEN) that the rows below act on.
  sleeper = as('admin').exec.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; exec sleep 300'] });
  ({ containerId, sessionId } = await sleeper.ready);
}, 60_000);

afterAll(async () => {
  for (const c of connections) c.close();
  await svc?.dispose();
  rmSync(volume.dir, { recursive: true, force: true });
});

describe('RPC → scope (docs/PROTOCOL.md, "Scoped tokens")', () => {
  it('Session run needs "run"', async () => {
    await deniedFor(
      'run',
      as('reader')
        .exec.run(BASE_IMAGE, { command: ['true'] })
        .wait(),
    );
    expect(
      (
        await as('runner')
          .exec.run(BASE_IMAGE, { command: ['echo', 'ran'] })
          .collect()
      ).stdout.toString(),
    ).toBe('ran\n');
  });

  it('a retry of a Start by its request_id needs "run" too, like any run', async () => {
    const start = { image: BASE_IMAGE, command: ['echo', 'once'], request_id: `scoped-retry-${process.pid}` };
    expect((await as('runner').exec.start(start).collect()).stdout.toString()).toBe('once\n');
    await deniedFor('run', as('reader').exec.start(start).wait());
    expect((await as('runner').exec.start(start).collect()).stdout.toString()).toBe('once\n'); // the same session, attached again
  });

  it('Session exec needs "run"', async () => {
    await deniedFor(
      'run',
      as('controller')
        .exec.exec(containerId, { command: ['true'] })
        .wait(),
    );
    expect(
      (
        await as('runner')
          .exec.exec(containerId, { command: ['echo', 'execd'] })
          .collect()
      ).stdout.toString(),
    ).toBe('execd\n');
  });

  it('Session attach needs "read"', async () => {
    await deniedFor('read', as('runner').exec.attach({ sessionId }).ready);
    const reader = as('reader').exec.attach({ sessionId, fromSequence: 1 });
    const out = backgroundReader(reader.output());
    await out.until('up\n');
    reader.cancel();
  });

  it('Session stdin and resize need "run"; the session goes on', async () => {
    // The runner's own session: its stdin reaches the process.
    const own = as('runner').exec.run(BASE_IMAGE, { command: ['cat'], openStdin: true, clientId: 'runner-client' });
    const ownOut = backgroundReader(own.output());
    const { sessionId: catSession } = await own.ready;
    await own.write(Buffer.from('from-runner\n'));
    await ownOut.until('from-runner\n');
    // A reader presenting the owner's client_id may attach, but neither write stdin nor resize.
    for (const send of [(s: ExecSession) => void s.write(Buffer.from('from-reader\n')).catch(() => undefined), (s: ExecSession) => s.resize(80, 24)]) {
      const intruder = as('reader').exec.attach({ sessionId: catSession, clientId: 'runner-client' });
      await intruder.ready;
      send(intruder);
      await deniedFor('run', intruder.wait());
    }
    await own.write(Buffer.from('still-here\n'));
    await ownOut.until('still-here\n');
    expect(ownOut.text()).not.toContain('from-reader');
    own.closeStdin();
    expect(await own.wait()).toBe(0);
  });

  it('ContainerLifecycle needs "read"', async () => {
    const denied = as('runner').control.lifecycle({ containerId, resumeAfterId: 0 });
    await deniedFor('read', denied.next());
    const sub = as('reader').control.lifecycle({ containerId, resumeAfterId: 0 });
    expect((await sub.next())?.containerId).toBe(containerId);
    sub.close();
  });

  it('ContainerStatus needs "read"', async () => {
    await deniedFor('read', as('controller').control.status(containerId));
    expect((await as('reader').control.status(containerId)).status).toBe('running');
  });

  it('ListSessions needs "read"', async () => {
    await deniedFor('read', as('runner').control.listSessions({ container_id: containerId }));
    const listed = await as('reader').control.listSessions({ container_id: containerId });
    expect(listed.sessions?.map((s) => s.container_id)).toContain(containerId);
  });

  it('ContainerPause and ContainerResume need "control"', async () => {
    await deniedFor('control', as('reader').control.pause(containerId));
    await as('controller').control.pause(containerId);
    expect((await as('reader').control.status(containerId)).status).toBe('paused');
    await deniedFor('control', as('runner').control.resume(containerId));
    await as('controller').control.resume(containerId);
    expect((await as('reader').control.status(containerId)).status).toBe('running');
  });

  it('ContainerSignal needs "control"', async () => {
    await deniedFor('control', as('runner').control.signal(containerId, 'SIGTERM'));
    await as('controller').control.signal(containerId, 'SIGTERM');
    expect(await sleeper.wait()).toBe(143);
  });
});

describe('tokens and logs', () => {
  it('logs the token name with each call and never a token', async () => {
    await as('reader')
      .control.status('deadbeefdeadbeef')
      .catch(() => undefined);
    await waitUntil('a call line of the reader', () => svc.logs.some((l) => l.msg === 'call ended' && l.token === 'reader' && l.method === 'ContainerStatus'));
    expect(svc.logs.filter((l) => l.msg === 'call ended' && l.method === 'Session').map((l) => l.token)).toEqual(
      expect.arrayContaining(['runner', 'EXEC_AUTH_TOKEN']),
    );
    const all = JSON.stringify(svc.logs);
    for (const t of [...Object.values(TOKENS), ADMIN]) expect(all).not.toContain(t);
  });

  it('follows the file: a new version replaces the tokens without a restart; a bad one keeps them', async () => {
    const pid = svc.proc?.pid;
    expect((await as('reader').control.status(containerId)).containerId).toBe(containerId);
    volume.publish(JSON.stringify([entry('rotated', ['read'])]));
    await waitUntil('the old reader token to stop working', () =>
      as('reader')
        .control.status(containerId)
        .then(
          () => false,
          (err: { code?: number }) => err.code === status.UNAUTHENTICATED,
        ),
    );
    expect((await as('rotated').control.status(containerId)).containerId).toBe(containerId);
    expect((await grpcError(as('runner').control.status(containerId))).code).toBe(status.UNAUTHENTICATED);
    volume.publish('[{"name": "rotated", "sha256": "not-a-hash", "scopes": ["read"]}]');
    await waitUntil('the bad file to be logged', () => svc.logs.some((l) => l.msg === 'EXEC_AUTH_TOKENS_FILE not reloaded: the previous tokens stay in force'));
    expect((await as('rotated').control.status(containerId)).containerId).toBe(containerId);
    expect((await as('admin').control.status(containerId)).containerId).toBe(containerId); // EXEC_AUTH_TOKEN throughout
    expect(svc.proc?.pid).toBe(pid);
  });

  it('stops at start-up on a bad tokens file, naming the variable', async () => {
    const bad = join(volume.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ name: 'x', sha256: sha256('x'), scopes: ['admin'] }]));
    const other = await childService({ EXEC_AUTH_TOKENS_FILE: bad });
    try {
      await expect(other.start()).rejects.toThrow(/EXEC_AUTH_TOKENS_FILE=".*bad.json": entry 0 \(x\): unknown scope "admin"/);
    } finally {
      await other.dispose();
    }
  });
});
