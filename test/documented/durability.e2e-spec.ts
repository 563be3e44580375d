// docs/DURABILITY.md: damaged exit.json → DATA_LOSS; re-adoption when the container is gone or
// Docker is down at start-up (explicit error naming the last chunk, ContainerStatus `unknown`);
// retention never removes a running session, and survives a restart. The service is a child process
// (it must die with kill -9); "Docker down" uses a second engine of this suite's own.
import { status } from '@grpc/grpc-js';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient, type ExecClient } from '@exec-stream/client';
import { BASE_IMAGE } from '../support/server';
import { docker } from '../support/helpers';
import { backgroundReader, waitUntil } from '../support/conditions';
import { buildService, childService, type ChildService } from '../support/child-service';
import { engine } from '../support/engine-async';

jest.setTimeout(60_000);

beforeAll(() => buildService());

/** Starts a sequenced run printing two lines then sleeping; resolves once both lines were received. */
async function runningSession(client: ExecClient) {
  const s = client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo line1; echo line2; exec sleep 300'], sequenced: true });
  const ready = await s.ready;
  const out = backgroundReader(s.output());
  await out.until('line2\n');
  const last = out.pieces[out.pieces.length - 1].sequence!;
  return { ...ready, last, out, session: s };
}

/** Attaches from the start and returns the bytes and the status the call ended with. */
async function attachEnding(client: ExecClient, sessionId: string) {
  const s = client.attach({ sessionId, sequenced: true });
  const out = backgroundReader(s.output());
  const end = await s.exit.then(
    (code) => ({ code, grpc: undefined as number | undefined, details: '' }),
    (err) => ({ code: -1, grpc: (err as { code: number }).code, details: String((err as { details?: string }).details) }),
  );
  return { text: out.text(), ...end };
}

describe('on the shared engine', () => {
  let svc: ChildService;
  let control: ControlClient;
  beforeAll(async () => {
    svc = await childService();
    await svc.start();
    control = new ControlClient(svc.connection);
  });
  afterAll(() => svc?.dispose());

  /**
   * Whether ListSessions still lists the session. The waits for retention ask this, not an attach: an
   * attach is a client of the session while it lasts, and a session with a client is never removed.
   */
  const listed = async (sessionId: string) => (await control.listSessions({ limit: 1000 })).sessions?.some((i) => i.session_id === sessionId);

  it('a damaged exit.json → DATA_LOSS, never an exit code; the output before it stays readable', async () => {
    const s = svc.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo kept; exit 3'] });
    const { sessionId, containerId } = await s.ready;
    expect(await s.wait()).toBe(3);
    await svc.stop('SIGKILL');
    const exitFile = join(svc.dataDir, 'sessions', sessionId, 'exit.json');
    expect(JSON.parse(readFileSync(exitFile, 'utf8'))).toMatchObject({ exitCode: 3 });
    writeFileSync(exitFile, '{"exitCode": 3, "finishedAt": 17'); // torn
    await svc.start();
    const r = await attachEnding(svc.client, sessionId);
    expect(r.text).toBe('kept\n');
    expect(r).toMatchObject({ code: -1, grpc: status.DATA_LOSS });
    // Its container's status comes from the session record: outcome unknown (was INTERNAL: a fractional
    // finishedAt from the folder's mtime reached BigInt).
    expect(await control.status(containerId)).toMatchObject({ status: 'unknown', exitCode: undefined });
  });

  it('re-adoption with the container gone → ABORTED naming the last chunk; ContainerStatus unknown', async () => {
    const r = await runningSession(svc.client);
    await svc.stop('SIGKILL');
    docker('rm', '-f', '-v', r.containerId);
    await svc.start();
    const a = await attachEnding(svc.client, r.sessionId);
    expect(a.text).toBe('line1\nline2\n');
    expect(a).toMatchObject({ code: -1, grpc: status.ABORTED });
    expect(a.details).toContain(`chunk ${r.last}`);
    const st = await control.status(r.containerId);
    expect(st).toMatchObject({ status: 'unknown', exitCode: undefined });
  });

  it('retention survives a restart: finishedAt comes from exit.json', async () => {
    // The service runs with the default retention (900 s) here, as every test before this one starts it.
    const old = svc.client.run(BASE_IMAGE, { command: ['echo', 'old'] });
    const { sessionId: oldId } = await old.ready;
    expect(await old.wait()).toBe(0);
    const recent = svc.client.run(BASE_IMAGE, { command: ['echo', 'recent'] });
    const { sessionId: recentId } = await recent.ready;
    expect(await recent.wait()).toBe(0);
    await svc.stop('SIGKILL');
    // The service was down for an hour, as far as `old` is concerned.
    const file = join(svc.dataDir, 'sessions', oldId, 'exit.json');
    const rec = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...rec, finishedAt: rec.finishedAt - 3_600_000 }));
    // A folder a crash left in removing/ (forgotten, not yet deleted) is never loaded again, and goes.
    const crashed = join(svc.dataDir, 'removing', `${recentId}.1`);
    mkdirSync(join(svc.dataDir, 'removing'), { recursive: true });
    cpSync(join(svc.dataDir, 'sessions', recentId), crashed, { recursive: true });
    await svc.start({ EXEC_RETENTION_SECONDS: '20' }); // swept every 5 s: the first sweep removes it
    await waitUntil('the hour-old session forgotten', async () => !(await listed(oldId)), 10_000);
    expect((await attachEnding(svc.client, oldId)).grpc).toBe(status.NOT_FOUND);
    // The contract (docs/DURABILITY.md, Retention): NOT_FOUND once forgotten, and by then the folder has
    // left sessions/ (one rename); it is deleted from removing/ in the background within seconds.
    expect(existsSync(join(svc.dataDir, 'sessions', oldId))).toBe(false);
    await waitUntil('removing/ emptied', () => readdirSync(join(svc.dataDir, 'removing')).length === 0, 10_000);
    const r = await svc.client.attach({ sessionId: recentId }).collect();
    expect(r.stdout.toString()).toBe('recent\n');
  });

  // Last: it leaves the service running with a retention of 1 s.
  it('retention never removes a running session (no client attached), even over the size budget', async () => {
    await svc.stop('SIGKILL');
    await svc.start({ EXEC_RETENTION_SECONDS: '1', EXEC_RETENTION_BYTES: '0' });
    const r = await runningSession(svc.client);
    // Its starter leaves: no client of it is left (the service says so), only the rule for running sessions keeps it.
    r.session.cancel();
    await waitUntil('no client attached to the running session', async () => {
      const { sessions } = await control.listSessions({ state: 'running' });
      return sessions?.find((i) => i.session_id === r.sessionId)?.clients_attached === 0;
    });
    const f = svc.client.run(BASE_IMAGE, { command: ['echo', 'finished'] });
    const { sessionId: finished } = await f.ready;
    expect(await f.wait()).toBe(0);
    // The sweeper has run (it removed the finished session) ...
    await waitUntil('the finished session swept', async () => !(await listed(finished)));
    expect((await attachEnding(svc.client, finished)).grpc).toBe(status.NOT_FOUND);
    // ... and the running one is all there, and goes on to its exit.
    const again = svc.client.attach({ sessionId: r.sessionId });
    const out = backgroundReader(again.output());
    await out.until('line1\nline2\n');
    await control.signal(r.containerId, 'KILL');
    expect(await again.exit).toBe(137);
  });
});

describe('Docker down at start-up (second engine)', () => {
  const NAME = 'issue16-durable';
  let svc: ChildService;
  beforeAll(async () => {
    const host = await engine(NAME, 'socket');
    await engine(NAME, 'start');
    svc = await childService({ DOCKER_HOST: host });
    await svc.start();
  });
  afterAll(async () => {
    await svc?.stop('SIGKILL');
    await engine(NAME, 'start').catch(() => undefined); // kills and records what the kill left behind
    await engine(NAME, 'stop').catch(() => undefined);
    await svc?.dispose();
  });

  it('an unfinished run ends UNAVAILABLE naming the last chunk; its output stays readable', async () => {
    const r = await runningSession(svc.client);
    await svc.stop('SIGKILL');
    await engine(NAME, 'kill');
    await svc.start();
    const a = await attachEnding(svc.client, r.sessionId);
    expect(a.text).toBe('line1\nline2\n');
    expect(a).toMatchObject({ code: -1, grpc: status.UNAVAILABLE });
    expect(a.details).toContain(`chunk ${r.last}`);
  });
});
