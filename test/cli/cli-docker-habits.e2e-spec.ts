// docs/CLI.md, "Beside docker": the commands a docker user reaches for, the built CLI run as a child process
// against the real service (in-process, real gRPC on loopback, real Docker): logs -f / --tail / --since,
// ps (running by default, -a, -q, --filter, newest first), stop [-t], wait, rm [-f], a session id
// wherever a container id goes, and status --usage of a container that has just started.
import { buildCli, cliEnv, runCli, startCli } from '../support/cli';
import { DockerSocketProxy } from '../support/docker-socket-proxy';
import { BASE_IMAGE, startTestServer, type TestServer } from '../support/server';

jest.setTimeout(60_000);

let server: TestServer;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], input?: string) => runCli(args, env, input);
/** `run -d …` → the session id it printed. */
async function detached(...args: string[]): Promise<string> {
  const r = await cli(['run', '-d', ...args]);
  expect({ code: r.code, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: '' });
  return r.stdout.toString().trim();
}
const text = (r: { code: number | null; stdout: Buffer; stderr: Buffer }) => ({ code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() });

beforeAll(async () => {
  buildCli();
  server = await startTestServer();
  env = cliEnv({ EXEC_ADDR: server.address });
});
afterAll(() => server?.close());

describe('logs', () => {
  it('--tail N: the last N lines, each on its own stream; --since SEQ: from that chunk on', async () => {
    // Lines written to two streams at once may be recorded in either order (two pipes, as with Docker's
    // own log): a pause before each stream change makes the order the test counts lines in certain.
    const id = await detached(BASE_IMAGE, 'sh', '-c', 'echo a; echo b; sleep 0.3; echo c >&2; sleep 0.3; echo d');
    expect(text(await cli(['wait', id]))).toEqual({ code: 0, stdout: '0\n', stderr: '' });
    expect(text(await cli(['logs', id]))).toEqual({ code: 0, stdout: 'a\nb\nd\n', stderr: 'c\n' });
    expect(text(await cli(['logs', '--tail', '2', id]))).toEqual({ code: 0, stdout: 'd\n', stderr: 'c\n' });
    expect(text(await cli(['logs', '-n', '0', id]))).toEqual({ code: 0, stdout: '', stderr: '' });
    // "d" came alone, after the pause: the session's last chunk, whose number `ls --json` gives.
    const [info] = JSON.parse((await cli(['ls', '--json'])).stdout.toString()).filter((s: any) => s.session_id === id);
    expect(text(await cli(['logs', '--since', String(info.last_sequence), id]))).toEqual({ code: 0, stdout: 'd\n', stderr: '' });
  });

  it('-f follows a running session to its end, then exits 0 (whatever the exit code)', async () => {
    const id = await detached(BASE_IMAGE, 'sh', '-c', 'echo one; sleep 1; echo two; exit 3');
    const f = startCli(['logs', '-f', id], env);
    await f.until('one\n');
    expect(text(await f.done)).toEqual({ code: 0, stdout: 'one\ntwo\n', stderr: '' });
  });
});

describe('ps', () => {
  it('running sessions by default, newest first, with docker ps columns; -a adds finished ones; -q ids only; --filter label= / status=', async () => {
    const label = `ps-${process.pid}-${Date.now()}`;
    const up = await detached('-l', `job=${label}`, BASE_IMAGE, 'sleep', '30');
    const done = await detached('-l', `job=${label}`, BASE_IMAGE, 'sh', '-c', 'exit 4');
    await cli(['wait', done]);
    // Listings only, of the state just made: side by side.
    const [ps, psAll, psQuiet, psExited, psBadFilter] = (
      await Promise.all([
        cli(['ps', '--filter', `label=job=${label}`]),
        cli(['ps', '-a', '--filter', `label=job=${label}`]),
        cli(['ps', '-q', '--filter', `label=job=${label}`]),
        cli(['ps', '-aq', '--filter', 'status=exited', '--filter', `label=job=${label}`]),
        cli(['ps', '--filter', 'colour=red']),
      ])
    ).map(text);
    const [header, ...rows] = ps.stdout.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual(['SESSION', 'CONTAINER', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^${up.replace(/\./g, '\\.')}\\s+[0-9a-f]{12}\\s+${BASE_IMAGE}\\s+"sleep 30"\\s+.+ ago\\s+Up `));
    const all = psAll.stdout.trimEnd().split('\n').slice(1);
    expect(all.map((r) => r.split(/\s+/)[0])).toEqual([done, up]); // newest first
    expect(all[0]).toMatch(/"sh -c exit 4"\s+.+ ago\s+Exited \(4\) .+ ago$/);
    expect(psQuiet).toEqual({ code: 0, stdout: `${up}\n`, stderr: '' });
    expect(psExited.stdout).toBe(`${done}\n`);
    expect(psBadFilter).toMatchObject({ code: 125, stderr: expect.stringContaining('label=KEY=VALUE') });
    await cli(['stop', '-t', '0', up]);
  });
});

describe('stop, wait, rm', () => {
  it('stop: SIGTERM, and SIGKILL after -t seconds for a process that ignores it; wait prints the exit code', async () => {
    const [polite, stubborn] = await Promise.all([
      detached(BASE_IMAGE, 'sleep', '30'),
      detached(BASE_IMAGE, 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'),
    ]);
    const started = Date.now();
    expect(text(await cli(['stop', '-t', '1', polite, stubborn]))).toEqual({ code: 0, stdout: `${polite}\n${stubborn}\n`, stderr: '' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // the stubborn one had its grace
    expect(text(await cli(['wait', polite, stubborn]))).toEqual({ code: 0, stdout: '143\n137\n', stderr: '' });
    // Stopping what has ended is no error, as docker stop of a stopped container.
    expect(text(await cli(['stop', polite]))).toEqual({ code: 0, stdout: `${polite}\n`, stderr: '' });
  });

  it('rm forgets a finished session; refuses a running one without -f; -f kills it first', async () => {
    // Two sessions, started side by side: one that ends at once, one that runs on.
    const [finished, alive] = await Promise.all([detached(BASE_IMAGE, 'true'), detached(BASE_IMAGE, 'sleep', '30')]);
    await cli(['wait', finished]);
    expect(text(await cli(['rm', finished]))).toEqual({ code: 0, stdout: `${finished}\n`, stderr: '' });
    expect(text(await cli(['logs', finished]))).toMatchObject({ code: 125, stderr: expect.stringContaining('NOT_FOUND (5)') });
    expect(text(await cli(['rm', alive]))).toMatchObject({ code: 125, stderr: expect.stringMatching(/FAILED_PRECONDITION \(9\): session .* is running/) });
    expect(text(await cli(['rm', '-f', alive]))).toEqual({ code: 0, stdout: `${alive}\n`, stderr: '' });
    expect(text(await cli(['ps', '-aq'])).stdout.split('\n')).not.toContain(alive);
  });
});

describe('a session id wherever a container goes', () => {
  it('status, pause, resume, exec, kill, events --container; kill of an exec session signals its exec only', async () => {
    const id = await detached(BASE_IMAGE, 'sleep', '30');
    const status = text(await cli(['status', id]));
    expect(status).toMatchObject({ code: 0, stdout: expect.stringMatching(/^container: +[0-9a-f]{64}\nstatus: +running\n/) });
    const containerId = /container: +([0-9a-f]{64})/.exec(status.stdout)![1];
    expect(text(await cli(['pause', id]))).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    expect(text(await cli(['status', id])).stdout).toMatch(/status: +paused/);
    expect(text(await cli(['resume', id]))).toEqual({ code: 0, stdout: `${id}\n`, stderr: '' });
    expect(text(await cli(['exec', id, 'echo', 'inside']))).toEqual({ code: 0, stdout: 'inside\n', stderr: '' });
    const execSession = text(await cli(['exec', '-d', id, 'sleep', '30'])).stdout.trim();
    // From the held events on (--since-id 0): a stream that is still subscribing when the kill happens misses nothing.
    const events = startCli(['events', '--container', id, '--since-id', '0', '--json'], env);
    expect(text(await cli(['kill', '-s', 'SIGTERM', execSession]))).toEqual({ code: 0, stdout: `${execSession}\n`, stderr: '' });
    expect(text(await cli(['wait', execSession])).stdout).toBe('143\n');
    expect(text(await cli(['status', containerId])).stdout).toMatch(/status: +running/); // the container goes on
    await events.until('"type":"killed"');
    expect(events.stdout().toString()).toContain(containerId);
    events.proc.kill('SIGTERM');
    await events.done;
    await cli(['kill', id]);
  });

  it('status --usage of a container Docker has given no reading of yet answers at once, saying so', async () => {
    // Docker's stats of the new container held back for 8 s (a proxy in front of the engine): the
    // service's status call finds no reading, as in a container's first seconds on a busy engine.
    const proxy = new DockerSocketProxy();
    const slow = await startTestServer({ DOCKER_HOST: await proxy.listen() });
    const slowEnv = cliEnv({ EXEC_ADDR: slow.address });
    try {
      proxy.delay(/^GET \S*\/containers\/[0-9a-f]+\/stats/, 8000);
      const id = text(await runCli(['run', '-d', BASE_IMAGE, 'sleep', '30'], slowEnv)).stdout.trim();
      const r = text(await runCli(['status', '--usage', id], slowEnv));
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^status: +running$/m);
      expect(r.stdout).toMatch(/^cpu: +\(needs a second reading\)$/m);
      expect(r.stdout).toMatch(/^memory: +\(no reading yet\)$/m);
    } finally {
      await slow.close();
      await proxy.close();
    }
  });
});
