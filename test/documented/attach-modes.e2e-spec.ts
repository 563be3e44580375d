// docs/PROTOCOL.md, start modes: attaching by container id (run session, else newest exec; a unique
// prefix is enough), by container + exec id, an unknown exec; env and working_dir on a run and an
// exec, tty on an exec.
import { status } from '@grpc/grpc-js';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';
import { docker, grpcError } from '../support/helpers';
import { backgroundReader, removeContainers } from '../support/conditions';

let server: TestServer;
const fixtures: string[] = [];
beforeAll(async () => (server = await startTestServer()));
afterAll(async () => {
  removeContainers(fixtures);
  await server?.close();
});

/** A managed container this service has no run session for (created outside it, labelled as this instance's). */
function managedContainerWithoutRun(): string {
  const labels = ['--label', 'exec-stream.managed=true', '--label', `exec-stream.replica=${server.config.EXEC_REPLICA_ID}`];
  const id = docker('run', '-d', '--network', 'none', ...labels, BASE_IMAGE, 'sleep', '300');
  fixtures.push(id);
  return id;
}

describe('attach by container id', () => {
  let containerId: string;
  let firstExecId: string;
  beforeAll(async () => {
    containerId = managedContainerWithoutRun();
    const first = server.client.exec(containerId, { command: ['sh', '-c', 'echo first; exit 3'] });
    firstExecId = (await first.ready).execId;
    expect(await first.wait()).toBe(3);
    const second = server.client.exec(containerId, { command: ['sh', '-c', 'echo second; exit 5'] });
    expect(await second.wait()).toBe(5);
  });

  it('with no run session, picks the newest exec', async () => {
    const r = await server.client.attach({ containerId }).collect();
    expect(r.stdout.toString()).toBe('second\n');
    expect(r.exitCode).toBe(5);
  });

  it('a unique prefix of the container id is enough', async () => {
    const r = await server.client.attach({ containerId: containerId.slice(0, 12) }).collect();
    expect(r).toMatchObject({ exitCode: 5 });
    expect(r.stdout.toString()).toBe('second\n');
  });

  it('container id + exec id picks that exec', async () => {
    const s = server.client.attach({ containerId, execId: firstExecId });
    expect((await s.ready).execId).toBe(firstExecId);
    const r = await s.collect();
    expect(r.stdout.toString()).toBe('first\n');
    expect(r.exitCode).toBe(3);
  });

  it('an exec id the container never had → NOT_FOUND', async () => {
    const err = await grpcError(server.client.attach({ containerId, execId: 'deadbeef0123' }).wait());
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toContain('deadbeef0123');
  });

  it('with a run session, picks the run even when an exec in it is newer', async () => {
    const run = server.client.run(BASE_IMAGE, { command: ['sh', '-c', 'echo run-output; read x; exit 9'], openStdin: true });
    const { containerId: runContainer } = await run.ready;
    const runOut = backgroundReader(run.output());
    await runOut.until('run-output\n');
    expect(await server.client.exec(runContainer, { command: ['echo', 'exec-output'] }).wait()).toBe(0);
    const attached = server.client.attach({ containerId: runContainer });
    expect((await attached.ready).execId).toBe('');
    run.closeStdin();
    const r = await attached.collect();
    expect(r.stdout.toString()).toBe('run-output\n');
    expect(r.exitCode).toBe(9);
    await runOut.done;
  });
});

describe('env, working_dir and tty apply to run and exec', () => {
  const env = { GREETING: 'hello world', UNICODE: 'é€ 😀', EMPTY: '' };
  const PRINT = ['sh', '-c', 'printf "%s|%s|%s|" "$GREETING" "$UNICODE" "${EMPTY-unset}"; pwd'];

  it('env and working_dir on a run (Docker creates a missing working dir)', async () => {
    const r = await server.client.run(BASE_IMAGE, { command: PRINT, env, workingDir: '/var/exec-stream-wd' }).collect();
    expect(r.stdout.toString()).toBe('hello world|é€ 😀||/var/exec-stream-wd\n');
    expect(r.exitCode).toBe(0);
  });

  it('env and working_dir on an exec', async () => {
    const containerId = managedContainerWithoutRun();
    const r = await server.client.exec(containerId, { command: PRINT, env, workingDir: '/etc' }).collect();
    expect(r.stdout.toString()).toBe('hello world|é€ 😀||/etc\n');
    expect(r.exitCode).toBe(0);
  });

  it('tty on an exec: a terminal of 80×24 reported in Ready, one raw stream (stderr arrives as stdout)', async () => {
    const containerId = managedContainerWithoutRun();
    // (Not `stty size` at once: on this engine it fails now and then; see the issue 16 report.)
    const s = server.client.exec(containerId, { command: ['sh', '-c', 'tty; echo to-stderr >&2; exit 6'], tty: true });
    const ready = await s.ready;
    expect(ready.terminalSize).toEqual({ width: 80, height: 24 });
    const r = await s.collect();
    const text = r.stdout.toString();
    expect(text).toMatch(/^\/dev\/pts\/\d+\r\nto-stderr\r\n$/);
    expect(r.stderr.length).toBe(0);
    expect(r.exitCode).toBe(6);
  });
});
