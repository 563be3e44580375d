import { credentials, loadPackageDefinition, status as Code, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { execProtoPath, PROTO_LOADER_OPTIONS } from '@exec-stream/client/wire';
import type { ListSessionsRequest, ListSessionsResponse__Output, SessionInfo__Output } from '@exec-stream/client/wire';
import { BASE_IMAGE, startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/conditions';
import { grpcError, sha256 } from './support/helpers';
import { listSessions, rawSession } from './support/raw-session';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSessions } from './support/retained-sessions';

jest.setTimeout(60_000);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

/** ListSessions with the absent-when-empty fields of the wire filled in. */
const list = async (req: ListSessionsRequest = {}) => {
  const r = await listSessions(server.connection, req);
  return { sessions: r.sessions ?? [], next_page_token: r.next_page_token ?? '' };
};
const ids = (items: SessionInfo__Output[]) => items.map((s) => s.session_id);

describe('ListSessions', () => {
  it('filters by state, mode, container id and labels (all must match); each item describes its session', async () => {
    const finished = await rawSession(server.connection, {
      image: BASE_IMAGE,
      command: ['sh', '-c', 'printf 12345; exit 2'],
      labels: { team: 'a', tier: 'x' },
    });
    const finishedId = finished.messages[0].ready!.session_id!;
    const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo up; sleep 60'] });
    const { sessionId: runId, containerId } = await run.ready;
    const exec = server.client.start({ container_id: containerId, command: ['sleep', '60'], labels: { team: 'b' } });
    const { sessionId: execId } = await exec.ready;
    const mine = (items: SessionInfo__Output[]) => ids(items).filter((id) => !!id && [finishedId, runId, execId].includes(id));

    expect(mine((await list()).sessions)).toEqual([finishedId, runId, execId]); // creation order
    expect(mine((await list({ state: 'running' })).sessions)).toEqual([runId, execId]);
    expect(mine((await list({ state: 'finished' })).sessions)).toEqual([finishedId]);
    expect(mine((await list({ mode: 'exec' })).sessions)).toEqual([execId]);
    expect(ids((await list({ container_id: containerId.slice(0, 12) })).sessions)).toEqual([runId, execId]);
    expect(ids((await list({ labels: { team: 'a' } })).sessions)).toEqual([finishedId]);
    expect(ids((await list({ labels: { team: 'a', tier: 'x' } })).sessions)).toEqual([finishedId]);
    expect(ids((await list({ labels: { team: 'a', tier: 'y' } })).sessions)).toEqual([]);
    expect(ids((await list({ labels: { team: 'b' }, state: 'running', mode: 'exec', container_id: containerId })).sessions)).toEqual([execId]);

    const [done] = (await list({ labels: { team: 'a' } })).sessions;
    expect(done).toMatchObject({
      session_id: finishedId,
      image: BASE_IMAGE,
      command: ['sh', '-c', 'printf 12345; exit 2'],
      tty: false,
      state: 'finished',
      mode: 'run',
      clients_attached: 0,
      output_bytes: '5',
      last_sequence: '1',
      labels: { team: 'a', tier: 'x' },
      outcome: { exit_code: 2, reason: 'exited', stdout_bytes: '5' },
    });
    expect(BigInt(done.created_at!)).toBeGreaterThan(0n);
    expect(BigInt(done.started_at!)).toBeGreaterThanOrEqual(BigInt(done.created_at!));
    expect(BigInt(done.finished_at!)).toBeGreaterThanOrEqual(BigInt(done.started_at!));
    expect(done.outcome).toEqual(finished.messages.find((m) => m.outcome)!.outcome);

    const [running] = (await list({ labels: { team: 'b' } })).sessions;
    expect(running).toMatchObject({ session_id: execId, container_id: containerId, state: 'running', mode: 'exec', finished_at: '0', clients_attached: 1 });
    expect(running.exec_id).toMatch(/^[0-9a-f]{64}$/);
    expect(running.outcome).toBeUndefined();

    // A second client attached to the run shows in clients_attached.
    const second = server.client.attach({ sessionId: runId });
    await second.ready;
    await waitUntil('two clients on the run', async () => (await list({ container_id: containerId, mode: 'run' })).sessions[0]?.clients_attached === 2);
    run.cancel();
    second.cancel();
    exec.cancel();
  });

  it('pages by an opaque token in a stable order; a token stays valid when sessions are added', async () => {
    // The paged sessions are execs in one container (paging does not look at a session's mode), each ended
    // before the next starts: their creation order is the order they are run in.
    const holder = server.client.run(BASE_IMAGE, { command: ['sleep', '120'] });
    const { containerId } = await holder.ready;
    const started: string[] = [];
    const runOne = async () => {
      const r = await rawSession(server.connection, { container_id: containerId, command: ['true'], labels: { batch: 'paging' } });
      expect(r.messages.find((m) => m.exit !== undefined)?.exit).toBe(0);
      started.push(r.messages[0].ready!.session_id!);
    };
    for (let i = 0; i < 5; i++) await runOne();
    const filter = { labels: { batch: 'paging' }, limit: 2 };
    const p1 = await list(filter);
    expect(ids(p1.sessions)).toEqual(started.slice(0, 2));
    expect(p1.next_page_token).not.toBe('');
    await runOne(); // added between pages: it comes last, nothing is repeated or skipped
    const p2 = await list({ ...filter, page_token: p1.next_page_token });
    expect(ids(p2.sessions)).toEqual(started.slice(2, 4));
    const p3 = await list({ ...filter, page_token: p2.next_page_token });
    expect(ids(p3.sessions)).toEqual(started.slice(4, 6));
    expect(p3.next_page_token).toBe('');
    expect(ids((await list({ labels: { batch: 'paging' } })).sessions)).toEqual(started); // default limit: one page
    holder.cancel();
  });

  it('pages of sessions with the largest commands and labels stay within 1 MiB: a client with grpc-js default limits reads them all, exactly once', async () => {
    const holder = server.client.run(BASE_IMAGE, { command: ['sleep', '120'] });
    const { containerId } = await holder.ready;
    const suite = `big-${process.pid}`;
    // 252 KiB of arguments (`true` ignores them) and 64 labels of 1 KiB: ~330 KiB per session, 13 of them ~4.3 MiB.
    const command = (i: number) => ['true', ...[1, 2, 3, 4].map((a) => `${i}.${a}.`.padEnd(63 * 1024, 'x'))];
    const labels = (i: number) => ({ suite, ...Object.fromEntries(Array.from({ length: 63 }, (_, k) => [`l${k}`, `${i}`.padEnd(1024, 'v')])) });
    const made = await Promise.all(
      Array.from({ length: 13 }, async (_, i) => {
        const r = await rawSession(server.connection, { container_id: containerId, command: command(i), labels: labels(i) });
        expect(r.messages.find((m) => m.exit !== undefined)?.exit).toBe(0);
        return r.messages[0].ready!.session_id!;
      }),
    );
    // A grpc-js client as a third party makes it: default options, 4 MiB receive limit.
    const pkg = loadPackageDefinition(loadSync(execProtoPath(), PROTO_LOADER_OPTIONS)) as unknown as {
      dagger: {
        exec: {
          Exec: new (
            address: string,
            creds: ChannelCredentials,
          ) => Client & { ListSessions(req: ListSessionsRequest, cb: (err: ServiceError | null, res: ListSessionsResponse__Output) => void): void };
        };
      };
    };
    const plain = new pkg.dagger.exec.Exec(server.address, credentials.createInsecure());
    const page = (page_token: string) =>
      new Promise<ListSessionsResponse__Output>((resolve, reject) =>
        plain.ListSessions({ labels: { suite }, page_token }, (err: ServiceError | null, res: ListSessionsResponse__Output) =>
          err ? reject(err) : resolve(res),
        ),
      );
    const seen: SessionInfo__Output[] = [];
    let pages = 0;
    for (let token = ''; pages === 0 || token; pages++) {
      const p = await page(token);
      expect(p.sessions!.length).toBeGreaterThan(0);
      seen.push(...p.sessions!);
      token = p.next_page_token ?? '';
    }
    plain.close();
    expect(ids(seen).sort()).toEqual([...made].sort());
    expect(pages).toBeGreaterThanOrEqual(5);
    for (const info of seen) {
      const i = made.indexOf(info.session_id!);
      expect({ command: sha256(info.command!.join('\0')), labels: info.labels }).toEqual({ command: sha256(command(i).join('\0')), labels: labels(i) });
    }
    holder.cancel();
  });

  it('bad input is INVALID_ARGUMENT naming the field', async () => {
    const bad = async (req: ListSessionsRequest, field: string) => {
      const err = await grpcError(list(req));
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.details).toContain(field);
    };
    await bad({ limit: 1001 }, 'limit 1001 is above the maximum of 1000');
    await bad({ state: 'done' }, 'state');
    await bad({ mode: 'daemon' }, 'mode');
    await bad({ page_token: 'not-a-token' }, 'page_token');
    // Made up in the form tokens have: a position (creation ms : session id), without the check a given-out token carries.
    await bad({ page_token: Buffer.from('0:a').toString('base64url') }, 'page_token is not one this service gave out');
    const given = (await list({ limit: 1 })).next_page_token;
    await bad({ page_token: given.slice(0, -3) }, 'page_token is not one this service gave out');
    await bad({ container_id: '../etc' }, 'container_id');
    expect((await list({ limit: 1000 })).sessions.length).toBeGreaterThan(0);
  });
});

describe('ListSessions pages of many retained sessions', () => {
  let dir: string;
  let retained: TestServer;
  beforeAll(async () => {
    // 101 finished sessions written as the service writes them (no Docker needed), loaded at start.
    dir = mkdtempSync(join(tmpdir(), 'exec-stream-list-many-'));
    writeSessions(dir, 101, 1);
    retained = await startTestServer({ EXEC_DATA_DIR: dir, EXEC_RETENTION_SECONDS: String(7 * 86_400) });
  });
  afterAll(async () => {
    await retained?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('limit 0 (or unset) is a page of 100, the rest on the next page', async () => {
    for (const req of [{ limit: 0 }, {}]) {
      const first = await listSessions(retained.connection, req);
      expect({ items: first.sessions?.length, more: !!first.next_page_token }).toEqual({ items: 100, more: true });
      const second = await listSessions(retained.connection, { ...req, page_token: first.next_page_token });
      expect({ items: second.sessions?.length, more: !!second.next_page_token }).toEqual({ items: 1, more: false });
    }
  });

  it('at most 64 label filters: 64 are a query, 65 INVALID_ARGUMENT naming labels', async () => {
    const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect((await listSessions(retained.connection, { labels: labels(64) })).sessions ?? []).toEqual([]);
    const err = await grpcError(listSessions(retained.connection, { labels: labels(65) }));
    expect({ code: err.code, details: err.details }).toEqual({ code: Code.INVALID_ARGUMENT, details: expect.stringContaining('labels') });
  });
});
